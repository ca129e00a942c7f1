import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeSafetensors } from "./encode.ts";
import { MAX_HEADER_BYTES, parseSafetensors, readHeaderLength, SafetensorsError } from "./header.ts";

/** Builds a file from a raw header object and a data buffer of `dataBytes` bytes. */
function rawFile(header: unknown, dataBytes: number, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

const parse = parseSafetensors;

const rejects = (file: Uint8Array, pattern: RegExp) =>
  assert.throws(
    () => parse(file),
    (e: Error) => e instanceof SafetensorsError && pattern.test(e.message),
  );

describe("safetensors header", () => {
  it("round-trips what the encoder writes, with metadata and aligned data", () => {
    const file = encodeSafetensors(
      [
        { name: "a", dtype: "F32", shape: [2, 3], data: new Uint8Array(24) },
        { name: "b", dtype: "BF16", shape: [4], data: new Uint8Array(8) },
      ],
      { rank: "2" },
    );
    const h = parse(file);
    assert.deepEqual(h.metadata, { rank: "2" });
    assert.deepEqual(
      h.tensors.map((t) => [t.name, t.begin, t.end]),
      [
        ["a", 0, 24],
        ["b", 24, 32],
      ],
    );
    assert.equal(h.dataStart % 8, 0);
  });

  it("rejects a file shorter than the length prefix", () => {
    assert.throws(() => readHeaderLength(new Uint8Array(4), 4), /8-byte header length/);
  });

  it("rejects a header length past the end of the file (truncated)", () => {
    const file = encodeSafetensors([{ name: "a", dtype: "F32", shape: [4], data: new Uint8Array(16) }]);
    assert.throws(() => readHeaderLength(file.subarray(0, 8), 20), /past the end/);
  });

  it("rejects a header length over the 100 MB limit without reading it", () => {
    const first8 = new Uint8Array(8);
    new DataView(first8.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    assert.throws(() => readHeaderLength(first8, 2 ** 40), /exceeds/);
  });

  it("rejects a 2^64-1 header length", () => {
    const first8 = new Uint8Array(8).fill(0xff);
    assert.throws(() => readHeaderLength(first8, 1000), /exceeds/);
  });

  it("rejects headers that are not UTF-8", () => {
    const file = rawFile(null, 0, "");
    const bad = new Uint8Array([...file.subarray(0, 8), 0xff, 0xfe]);
    new DataView(bad.buffer).setBigUint64(0, 2n, true);
    rejects(bad, /UTF-8/);
  });

  it("rejects JSON that is not an object", () => {
    rejects(rawFile([1, 2], 0), /JSON object/);
    rejects(rawFile(null, 0, "{nope"), /not valid JSON/);
  });

  it("rejects unknown dtypes", () => {
    rejects(rawFile({ a: { dtype: "F128", shape: [1], data_offsets: [0, 16] } }, 16), /unknown dtype "F128"/);
  });

  it("rejects negative or fractional shapes", () => {
    rejects(rawFile({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), /non-negative integers/);
    rejects(rawFile({ a: { dtype: "F32", shape: [1.5], data_offsets: [0, 4] } }, 4), /non-negative integers/);
  });

  it("rejects a size that lies about the shape", () => {
    rejects(rawFile({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8), /needs 12/);
  });

  it("rejects shapes whose byte count overflows instead of wrapping", () => {
    const huge = 2 ** 40;
    rejects(rawFile({ a: { dtype: "F32", shape: [huge, huge, 0 + huge], data_offsets: [0, 0] } }, 0), /needs/);
  });

  it("rejects overlapping tensors", () => {
    rejects(rawFile({ a: { dtype: "U8", shape: [8], data_offsets: [0, 8] }, b: { dtype: "U8", shape: [4], data_offsets: [4, 8] } }, 8), /overlaps/);
  });

  it("rejects gaps in the data buffer", () => {
    rejects(rawFile({ a: { dtype: "U8", shape: [4], data_offsets: [0, 4] }, b: { dtype: "U8", shape: [4], data_offsets: [6, 10] } }, 10), /gap/);
  });

  it("rejects offsets past the data buffer (truncated data)", () => {
    rejects(rawFile({ a: { dtype: "U8", shape: [16], data_offsets: [0, 16] } }, 8), /past the 8-byte data buffer/);
  });

  it("rejects trailing bytes that no tensor covers", () => {
    rejects(rawFile({ a: { dtype: "U8", shape: [4], data_offsets: [0, 4] } }, 12), /cover 4/);
  });

  it("rejects reversed offsets and extra fields", () => {
    rejects(rawFile({ a: { dtype: "U8", shape: [0], data_offsets: [4, 0] } }, 4), /begin ≤ end/);
    rejects(rawFile({ a: { dtype: "U8", shape: [4], data_offsets: [0, 4], evil: 1 } }, 4), /unknown field 'evil'/);
  });

  it("rejects non-string metadata values", () => {
    rejects(rawFile({ __metadata__: { rank: 2 } }, 0), /__metadata__\['rank'\] must be a string/);
  });

  it("rejects a header that names a tensor twice (JSON.parse would keep only the last)", () => {
    const entry = '{"dtype":"U8","shape":[4],"data_offsets":[0,4]}';
    rejects(rawFile(null, 4, `{"a":${entry},"a":${entry}}`), /names "a" twice/);
    rejects(rawFile(null, 4, `{"__metadata__":{"k":"1","k":"2"},"a":${entry}}`), /names "k" twice \(inside '__metadata__'\)/);
    // Equal names in different objects, and escaped quotes inside strings, are fine.
    const ok = parse(rawFile(null, 4, `{"__metadata__":{"a":"x\\"a\\"","dtype":"y"},"a":${entry}}`));
    assert.equal(ok.metadata.a, 'x"a"');
  });

  it("applies caller limits on header bytes, tensor count and metadata size", () => {
    const file = encodeSafetensors(
      [
        { name: "a", dtype: "U8", shape: [4], data: new Uint8Array(4) },
        { name: "b", dtype: "U8", shape: [4], data: new Uint8Array(4) },
      ],
      { note: "x".repeat(100) },
    );
    assert.throws(() => parseSafetensors(file, { maxHeaderBytes: 64 }), /exceeds the 64-byte limit/);
    assert.throws(() => parseSafetensors(file, { maxTensors: 1 }), /lists 2 tensors; the limit is 1/);
    assert.throws(() => parseSafetensors(file, { maxMetadataBytes: 50 }), /__metadata__ is 111 bytes; the limit is 50/);
    assert.equal(parseSafetensors(file, { maxHeaderBytes: 1024, maxTensors: 2, maxMetadataBytes: 200 }).tensors.length, 2);
  });
});
