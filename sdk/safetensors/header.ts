/**
 * safetensors header parsing for files from strangers: every field is checked before it is used,
 * and the first problem is reported in words a person can act on.
 * Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data buffer.
 */

import { MotionLoraError } from "../errors.ts";

export const MAX_HEADER_BYTES = 100_000_000;

export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  U64: 8,
  I64: 8,
  F64: 8,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte offsets into the data buffer (which starts after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  headerLength: number;
  /** Offset of the data buffer from the start of the file. */
  dataStart: number;
  metadata: Record<string, string>;
  /** Tensors in data-buffer order. */
  tensors: TensorInfo[];
}

/** Raised for any malformed file; `message` names the first problem found. */
export class SafetensorsError extends MotionLoraError {
  override name = "SafetensorsError";
  constructor(message: string) {
    super(message, "invalid_safetensors");
  }
}

function fail(message: string): never {
  throw new SafetensorsError(message);
}

/**
 * Tighter bounds for files whose kind is known (a LoRA of one model): checked before the JSON is
 * built into tensors, so a hostile header costs at most one bounded parse.
 */
export interface HeaderLimits {
  /** Largest header in bytes (default MAX_HEADER_BYTES); checked before the header is read. */
  maxHeaderBytes?: number;
  maxTensors?: number;
  /** Largest `__metadata__` block, as UTF-8 JSON bytes. */
  maxMetadataBytes?: number;
}

/** Reads and bounds-checks the header length from the file's first 8 bytes. */
export function readHeaderLength(first8: Uint8Array, fileSize: number, maxHeaderBytes = MAX_HEADER_BYTES): number {
  if (fileSize < 8 || first8.byteLength < 8) fail(`file is ${fileSize} bytes; a safetensors file starts with an 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n) fail(`header length is ${n}; the smallest valid header is '{}' (2 bytes)`);
  if (n > BigInt(maxHeaderBytes)) fail(`header length ${n} exceeds the ${maxHeaderBytes}-byte limit`);
  if (8n + n > BigInt(fileSize)) fail(`header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`);
  return Number(n);
}

/** Parses and validates the JSON header; `fileSize` bounds the data buffer the offsets must cover exactly. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, limits: HeaderLimits = {}): SafetensorsHeader {
  const headerLength = headerBytes.byteLength;
  if (limits.maxHeaderBytes !== undefined && headerLength > limits.maxHeaderBytes) {
    fail(`header length ${headerLength} exceeds the ${limits.maxHeaderBytes}-byte limit`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(headerBytes);
  } catch {
    fail("header is not valid UTF-8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("header must be a JSON object");
  // JSON.parse keeps the last of two equal keys: a second tensor of one name would vanish unseen.
  const dup = firstDuplicateKey(text);
  if (dup !== null) fail(`the header names ${JSON.stringify(dup.key)} twice${dup.path ? ` (inside '${dup.path}')` : ""}`);
  const count = Object.keys(json).length - (Object.hasOwn(json, "__metadata__") ? 1 : 0);
  if (limits.maxTensors !== undefined && count > limits.maxTensors) fail(`the header lists ${count} tensors; the limit is ${limits.maxTensors}`);

  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];

  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = checkMetadata(raw);
      if (limits.maxMetadataBytes !== undefined) {
        const bytes = new TextEncoder().encode(JSON.stringify(metadata)).byteLength;
        if (bytes > limits.maxMetadataBytes) fail(`__metadata__ is ${bytes} bytes; the limit is ${limits.maxMetadataBytes}`);
      }
      continue;
    }
    tensors.push(checkTensor(name, raw));
  }

  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin < cursor) fail(`tensor '${t.name}' overlaps the previous tensor (starts at ${t.begin}, previous ends at ${cursor})`);
    if (t.begin > cursor) fail(`gap in the data buffer before tensor '${t.name}' (bytes ${cursor}..${t.begin} belong to no tensor)`);
    if (t.end > dataSize) fail(`tensor '${t.name}' ends at ${t.end}, past the ${dataSize}-byte data buffer (truncated?)`);
    cursor = t.end;
  }
  if (cursor !== dataSize) fail(`data buffer is ${dataSize} bytes but the tensors cover ${cursor}`);
  return { headerLength, dataStart, metadata, tensors };
}

function checkMetadata(raw: unknown): Record<string, string> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("__metadata__ must be an object of strings");
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") fail(`__metadata__['${k}'] must be a string, got ${v === null ? "null" : typeof v}`);
  }
  return raw as Record<string, string>;
}

function checkTensor(name: string, raw: unknown): TensorInfo {
  if (name.length === 0 || name.length > 1024) fail("tensor names must be 1–1024 characters");
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`tensor '${name}' must be an object with dtype, shape and data_offsets`);
  const entry = raw as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (key !== "dtype" && key !== "shape" && key !== "data_offsets") fail(`tensor '${name}' has an unknown field '${key}'`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    fail(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}; known: ${Object.keys(DTYPE_BYTES).join(", ")}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' shape must be an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    fail(`tensor '${name}' data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
  }
  // BigInt so that a hostile shape cannot overflow into a small, plausible byte count.
  let bytes = BigInt(DTYPE_BYTES[dtype as Dtype]);
  for (const d of shape as number[]) bytes *= BigInt(d);
  const [begin, end] = offsets as [number, number];
  if (bytes !== BigInt(end - begin)) {
    fail(`tensor '${name}' spans ${end - begin} bytes but its shape [${shape.join(", ")}] of ${dtype} needs ${bytes}`);
  }
  return { name, dtype: dtype as Dtype, shape: shape as number[], begin, end };
}

/** Parses and validates a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, limits: HeaderLimits = {}): SafetensorsHeader {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.byteLength, limits.maxHeaderBytes);
  return parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength, limits);
}

/**
 * The first key that appears twice in one object of `text` (already known to be valid JSON), with
 * the key of the object that holds it ("" at the top), or null. One pass, no allocation per value.
 */
export function firstDuplicateKey(text: string): { key: string; path: string } | null {
  // Per open container: its keys (null for arrays), and the key it sits under.
  const stack: { keys: Set<string> | null; path: string }[] = [];
  let expectKey = false;
  let lastKey = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, path: top.path };
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b /* { */) {
      stack.push({ keys: new Set(), path: stack.length === 0 ? "" : lastKey });
      expectKey = true;
    } else if (ch === 0x5b /* [ */) {
      stack.push({ keys: null, path: lastKey });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      expectKey = stack[stack.length - 1]?.keys != null;
    }
  }
  return null;
}
