// The shapes of clips every video module speaks, apart from the code, so that modules can share them without importing each other.

/** Video as RGB frames: `count` frames of height × width × 3 bytes, back to back. */
export interface Frames {
  width: number;
  height: number;
  count: number;
  rgb: Uint8Array;
  /** Frames per second, when the format says (a GIF's frame delays, an MP4 through ffmpeg); fitting assumes 8 otherwise. */
  fps?: number;
  /** The clip these frames were decoded from, when a reader shrank it or cut a span first. */
  source?: FrameSource;
}

/** The model's clip format: `frames` square frames of `size` pixels. */
export interface ClipShape {
  frames: number;
  size: number;
}

/** Where decoded frames came from, when a reader shrank them or cut a span first (readVideoFile with ffmpeg). */
export interface FrameSource {
  width: number;
  height: number;
  /** Frames per second of the source; null when the format does not say (PNG frames, clip PNG). */
  fps: number | null;
  /** The source's length in seconds; null when unknown. */
  seconds: number | null;
  /** Seconds into the source of the first decoded frame. */
  start: number;
}
