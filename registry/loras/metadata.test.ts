import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SafetensorsHeader } from "../../sdk/safetensors/header.ts";
import { checkFinite } from "./metadata.ts";

/** A data buffer of two F32 tensors after a 16-byte stand-in header, and a reader that records its ranges. */
function file(values: number[], split: number) {
  const bytes = new Uint8Array(16 + values.length * 4);
  new DataView(bytes.buffer).setUint32(0, 0xdeadbeef);
  const f = new Float32Array(bytes.buffer, 16);
  f.set(values);
  const header: SafetensorsHeader = {
    headerLength: 8,
    dataStart: 16,
    metadata: {},
    tensors: [
      { name: "a", dtype: "F32", shape: [split], begin: 0, end: split * 4 },
      { name: "b", dtype: "F32", shape: [values.length - split], begin: split * 4, end: values.length * 4 },
    ],
  };
  const reads: [number, number][] = [];
  const read = async (s: number, e: number) => {
    reads.push([s, e]);
    return bytes.slice(s, e);
  };
  return { header, read, reads };
}

describe("checkFinite", () => {
  it("reads the data in windows no larger than asked, and names the tensor and element of a NaN in any window", async () => {
    for (const chunk of [8, 12, 40, 1 << 20]) {
      for (const at of [0, 4, 9, 10, 23]) {
        const values = Array.from({ length: 24 }, (_, i) => i / 7);
        values[at] = at % 2 ? Number.POSITIVE_INFINITY : Number.NaN;
        const { header, read, reads } = file(values, 10);
        const name = at < 10 ? "a" : "b";
        const element = at < 10 ? at : at - 10;
        await assert.rejects(
          checkFinite(read, header, chunk),
          new RegExp(`tensor '${name}' holds (NaN|Infinity) at element ${element};`),
          `chunk ${chunk}, at ${at}`,
        );
        assert.ok(
          reads.every(([s, e]) => e - s <= chunk && s >= 16),
          `chunk ${chunk}: ${JSON.stringify(reads)}`,
        );
      }
      const ok = file(
        Array.from({ length: 24 }, (_, i) => -i),
        10,
      );
      await checkFinite(ok.read, ok.header, chunk);
      assert.equal(ok.reads.at(-1)![1], 16 + 96, "reads to the end of the last tensor");
      assert.equal(ok.reads.length, Math.ceil(96 / (chunk - (chunk % 4))));
    }
  });
});
