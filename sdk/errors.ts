/**
 * Base of every error the SDK throws; `code` is stable, switch on it rather than on messages.
 * A module of its own so that low-level parts (safetensors, video) share the base without
 * importing the HTTP client.
 */
export class MotionLoraError extends Error {
  override name = "MotionLoraError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
