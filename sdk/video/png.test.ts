import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inflateSync } from "node:zlib";
import { encodePng, frameStrip } from "./png.ts";

describe("PNG previews", () => {
  it("encodes RGB pixels that decode back exactly", async () => {
    const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const png = await encodePng(rgb, 5, 3);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idatLen = new DataView(png.buffer).getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    for (let y = 0; y < 3; y++) {
      assert.equal(raw[y * 16], 0, "filter byte");
      assert.deepEqual([...raw.subarray(y * 16 + 1, y * 16 + 16)], [...rgb.subarray(y * 15, y * 15 + 15)]);
    }
  });

  it("lays frames side by side, scaled", () => {
    const frames = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i);
    const { rgb, width, height } = frameStrip(frames, 2, 2, 2);
    assert.equal(width, 8);
    assert.equal(height, 4);
    assert.deepEqual([...rgb.subarray(0, 3)], [0, 1, 2]);
    assert.deepEqual([...rgb.subarray(4 * 3, 4 * 3 + 3)], [12, 13, 14], "second frame starts at x = 4");
  });

  it("refuses a buffer of the wrong size", async () => {
    await assert.rejects(encodePng(new Uint8Array(10), 2, 2), /expected 2×2×3/);
  });
});
