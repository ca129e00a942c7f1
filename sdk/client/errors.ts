import { MotionLoraError } from "../errors.ts";
import type { ErrorCode, JobErrorCode } from "../schema/index.ts";

export { MotionLoraError };

/** The registry answered with an error body. */
export class APIError extends MotionLoraError {
  override name = "APIError";
  constructor(
    readonly status: number,
    code: ErrorCode | string,
    message: string,
    readonly requestId: string | null,
    readonly details?: unknown,
    readonly retryAfterMs: number | null = null,
  ) {
    super(`${message} (HTTP ${status}, ${code}${requestId ? `, request ${requestId}` : ""})`, code);
  }
}

export class BadRequestError extends APIError {
  override name = "BadRequestError";
}
export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
}
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}
export class ConflictError extends APIError {
  override name = "ConflictError";
}
export class UnprocessableEntityError extends APIError {
  override name = "UnprocessableEntityError";
}
export class RateLimitError extends APIError {
  override name = "RateLimitError";
}
export class InternalServerError extends APIError {
  override name = "InternalServerError";
}

/** The request never got an HTTP answer (DNS, refused, reset, TLS). */
export class APIConnectionError extends MotionLoraError {
  override name = "APIConnectionError";
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message, "connection_error");
  }
}

/** No answer within `timeoutMs`. */
export class APITimeoutError extends MotionLoraError {
  override name = "APITimeoutError";
  constructor(ms: number) {
    super(`no response within ${ms} ms; raise timeoutMs or check the registry`, "timeout");
  }
}

/**
 * The caller's AbortSignal aborted without a reason of its own (`controller.abort()`, or
 * `AbortSignal.timeout`): the request stopped, and the job that `tune`, `generate` or `jobs.wait`
 * was following was canceled on the registry before this was thrown. A reason given to
 * `abort(reason)` is thrown as it is instead.
 */
export class AbortedError extends MotionLoraError {
  override name = "AbortedError";
  constructor(override readonly cause?: unknown) {
    super("aborted by the caller's AbortSignal", "aborted");
  }
}

/** A response or download did not match what was promised (schema, sha256, size). */
export class IntegrityError extends MotionLoraError {
  override name = "IntegrityError";
  constructor(message: string) {
    super(message, "integrity_error");
  }
}

/** A job ended in failure (`code` is its JobErrorCode) or was canceled (`job_canceled`). */
export class JobFailedError extends MotionLoraError {
  override name = "JobFailedError";
  // `(string & {})`: a newer registry's code still fits, while editors keep offering the known ones.
  declare readonly code: JobErrorCode | "job_canceled" | "job_failed" | (string & {});
  constructor(
    message: string,
    code: JobErrorCode | "job_canceled" | "job_failed" | (string & {}),
    readonly jobId: string,
  ) {
    super(message, code);
  }
}

/** The typed error for an HTTP status and the registry's error body. */
export function errorForStatus(
  status: number,
  code: string,
  message: string,
  requestId: string | null,
  details: unknown,
  retryAfterMs: number | null,
): APIError {
  const args = [status, code, message, requestId, details, retryAfterMs] as const;
  if (status === 401) return new AuthenticationError(...args);
  if (status === 403) return new PermissionDeniedError(...args);
  if (status === 404) return new NotFoundError(...args);
  if (status === 409) return new ConflictError(...args);
  if (status === 422) return new UnprocessableEntityError(...args);
  if (status === 429) return new RateLimitError(...args);
  if (status >= 500) return new InternalServerError(...args);
  if (status >= 400 && status < 500) return new BadRequestError(...args);
  return new APIError(...args);
}
