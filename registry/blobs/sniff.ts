import type { BlobKind } from "../../sdk/schema/index.ts";
import { parseHeader, readHeaderLength, SafetensorsError, type HeaderLimits } from "../../sdk/safetensors/header.ts";
import { VideoFormatError } from "../../sdk/video/errors.ts";
import { type ClipShape, decodeClipPng } from "../../sdk/video/frames.ts";
import { RegistryError } from "../http/errors.ts";

type Read = (start: number, end: number) => Promise<Uint8Array>;

/** The content type of bytes that passed a LoRA upload's checks (safetensors within the header bounds). */
export const SAFETENSORS = "application/vnd.safetensors";
const IMAGES = new Set(["image/gif", "image/png"]);

/**
 * Whether stored bytes of `contentType` may be used as `kind`. The type is what an upload's checks
 * found in the bytes, the same whoever uploaded them first: a LoRA is safetensors, a preview a GIF
 * or PNG, a video anything else (an unrecognised type only ever comes from a runner's video upload).
 * Safetensors and images are disjoint (a header length read from an image signature is far beyond
 * the header bound), so checking the type is checking the bytes.
 */
export function servesAs(contentType: string, kind: BlobKind): boolean {
  if (kind === "lora") return contentType === SAFETENSORS;
  if (kind === "preview") return IMAGES.has(contentType);
  return contentType !== SAFETENSORS;
}

/** The narrowest kind bytes of `contentType` serve as: what a reader who never declared one is told. */
export const kindOf = (contentType: string): BlobKind => (contentType === SAFETENSORS ? "lora" : IMAGES.has(contentType) ? "preview" : "video");

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x);

/** Content type from magic bytes; the registry never trusts a client's Content-Type for stored blobs. */
export function sniffContentType(head: Uint8Array): string {
  if (startsWith(head, [0x47, 0x49, 0x46, 0x38])) return "image/gif";
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(head, [0x66, 0x74, 0x79, 0x70], 4)) return "video/mp4";
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return "video/webm";
  return "application/octet-stream";
}

/**
 * Parses and validates a safetensors header through `read`, as hostile input. The length prefix is
 * checked against `limits.maxHeaderBytes` before a byte of the header is read.
 */
export async function readSafetensors(read: Read, size: number, limits: HeaderLimits = {}) {
  const first8 = await read(0, 8);
  const n = readHeaderLength(first8, size, limits.maxHeaderBytes);
  return parseHeader(await read(8, 8 + n), size, limits);
}

export interface InspectOptions {
  /** Bounds for a LoRA's safetensors header. */
  lora: HeaderLimits;
  /**
   * Runner keys upload job results the registry asked for; their video results are not sniffed.
   * Everyone else's `video` must be a GIF, PNG, MP4 or WebM, so the store is no free file host.
   */
  trusted: boolean;
  /** The model's clip: a PNG video must be a clip PNG of exactly this shape. */
  clip: ClipShape;
}

/**
 * A clip PNG of the shipped model (16 frames of 32×32) holds at most 64 KiB of pixels, so anything
 * past 1 MiB is not one; bounding it first keeps the decode below from reading a large file whole.
 */
const CLIP_PNG_MAX_BYTES = 1024 * 1024;

/**
 * Decodes a PNG video as the runner will, refusing another size before inflating (decodeClipPng)
 * and a decompression bomb at the clip's own byte count: it is refused here, not in a runner that
 * holds a lease.
 */
export async function checkClipPng(read: Read, size: number, clip: ClipShape) {
  if (size > CLIP_PNG_MAX_BYTES)
    throw new RegistryError(
      "invalid_video",
      `a clip PNG is at most ${CLIP_PNG_MAX_BYTES} bytes; this one is ${size}. Make it with the SDK (fitClip, encodeClipPng)`,
    );
  try {
    await decodeClipPng(await read(0, size), clip);
  } catch (e) {
    if (e instanceof VideoFormatError) throw new RegistryError("invalid_video", `not a clip PNG the model can tune on: ${e.message}`);
    throw e;
  }
}

/**
 * The checks an upload of each kind must pass before it is stored; returns its content type.
 * A LoRA must be safetensors: pickle-based formats (.bin/.pt/.ckpt) run code when loaded.
 */
export async function inspectUpload(kind: BlobKind, read: Read, size: number, opts: InspectOptions): Promise<string> {
  const head = await read(0, Math.min(size, 16));
  if (kind === "lora") {
    if (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5) {
      throw new RegistryError("invalid_safetensors", "this is a Python pickle (.bin/.pt/.ckpt), which is never accepted; convert it to safetensors");
    }
    if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
      throw new RegistryError("invalid_safetensors", "this is a zip archive (a torch .pt/.ckpt), which is never accepted; convert it to safetensors");
    }
    try {
      await readSafetensors(read, size, opts.lora);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new RegistryError("invalid_safetensors", `not a valid LoRA safetensors file: ${e.message}`);
      throw e;
    }
    return SAFETENSORS;
  }
  const type = sniffContentType(head);
  if (kind === "preview" && type !== "image/gif" && type !== "image/png") {
    throw new RegistryError("validation_failed", "a preview must be a GIF or PNG image");
  }
  if (kind === "video" && type === "application/octet-stream" && !opts.trusted) {
    throw new RegistryError("validation_failed", "a video must be a GIF, PNG (clip PNG), MP4 or WebM file; convert it first (the SDK's readVideoFile does)");
  }
  if (kind === "video" && type === "image/png") await checkClipPng(read, size, opts.clip);
  return type;
}
