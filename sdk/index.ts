// The SDK's public surface: fetch-only, so it runs in Node ≥ 20, browsers, Deno and Workers.
export { MotionLora, type GenerateLora, type GenerateParams, type Generated, type JobProgress, type TuneParams } from "./client/client.ts";
export * from "./client/errors.ts";
export type { ClientOptions } from "./client/http.ts";
export { sha256Hex } from "./client/digest.ts";
export { parseRef } from "./client/refs.ts";
export { decodeClipPng, encodeClipPng, fitClip, framesFromPngs, framesFromRgb, MODEL_CLIP, type ClipShape, type Frames } from "./video/frames.ts";
export { readFrames } from "./video/read.ts";
export { decodeGif, encodeGif } from "./video/gif.ts";
export { decodePng } from "./video/png-decode.ts";
export { encodePng } from "./video/png.ts";
export { VideoFormatError } from "./video/errors.ts";
export * as schema from "./schema/index.ts";
export { signPayload, verifyWebhook } from "./webhooks/signature.ts";
export { describeGrammar, grammarMismatchMessage, matchGrammar, promptWords, type Expected, type GrammarMatch } from "./prompt/grammar.ts";
