import type { ErrorCode } from "../../sdk/schema/index.ts";

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  validation_failed: 422,
  unauthenticated: 401,
  invalid_api_key: 401,
  api_key_revoked: 401,
  insufficient_scope: 403,
  forbidden: 403,
  tune_target_not_owned: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  slug_taken: 409,
  idempotency_conflict: 409,
  lease_lost: 409,
  job_not_active: 409,
  payload_too_large: 413,
  length_required: 411,
  sha256_mismatch: 422,
  size_mismatch: 422,
  invalid_safetensors: 422,
  invalid_lora_metadata: 422,
  invalid_video: 422,
  blob_missing: 422,
  invalid_lora_tensors: 422,
  base_model_mismatch: 422,
  unknown_word: 422,
  prompt_does_not_fit: 422,
  unsupported_option: 422,
  too_many_loras: 422,
  quota_exceeded: 413,
  range_not_satisfiable: 416,
  rate_limited: 429,
  too_many_streams: 429,
  queue_full: 429,
  // nginx's code for "the client went away first": logged, never seen by a client.
  client_closed_request: 499,
  internal_error: 500,
};

/**
 * The registry's one error base: what a client is told, as-is, in the error body (a stable code, a
 * message that says what to do, optional details) with the code's HTTP status. Anything else that
 * escapes a handler is a 500 `internal_error`. The SDK's `APIError` is the same error as the
 * client receives it.
 */
export class RegistryError extends Error {
  override name = "RegistryError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = STATUS[code];
  }
}
