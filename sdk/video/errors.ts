import { MotionLoraError } from "../client/errors.ts";

/** A video or image could not be read or fitted to the model's clip format; the message says why. */
export class VideoFormatError extends MotionLoraError {
  override name = "VideoFormatError";
  constructor(message: string) {
    super(message, "invalid_video");
  }
}
