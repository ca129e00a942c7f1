// What a clip shows, in the world's vocabulary: per object its colour and shape, the background
// colour and the object count; then text alignment with a prompt, appearance leakage from the
// reference, and temporal consistency of the tracked object's mask.
import type { Clip } from "../../core/clip.ts";
import { BACKGROUND_COLOURS, OBJECT_COLOURS, RGB, SHAPES, shapeAlpha, type BackgroundColour, type ObjectColour, type Shape } from "./paint.ts";
import { components, toFrames01, type Component, type Frames01 } from "./segment.ts";
import { countObjects, detectObjects, type ObjectTrack } from "./tracker.ts";
import { promptWords } from "../../../sdk/prompt/grammar.ts";

export interface DetectedObject {
  colour: ObjectColour;
  shape: Shape | "person";
  shapeScore: number; // mean soft IoU of the best template (low: a blob no shape fits)
  track: ObjectTrack;
}

export interface Appearance {
  objects: DetectedObject[];
  background: BackgroundColour;
  count: number;
}

const norm = (c: readonly number[]) => {
  const m = Math.max(c[0]!, c[1]!, c[2]!, 1e-6);
  return c.map((v) => v / m);
};

/** Nearest palette colour to an RGB in [0, 1], compared after dividing by the brightest channel (brightness-free). */
export function classifyColour(rgb: readonly number[]): ObjectColour {
  const n = norm(rgb);
  let best: ObjectColour = "white";
  let bd = Infinity;
  for (const c of OBJECT_COLOURS) {
    const p = norm(RGB[c]);
    const d = Math.hypot(n[0]! - p[0]!, n[1]! - p[1]!, n[2]! - p[2]!);
    if (d < bd) [bd, best] = [d, c];
  }
  return best;
}

// Area of each shape at radius 1 (px² per scale²): divides a mask's mass to fit the template's scale.
const UNIT_AREA = Object.fromEntries(SHAPES.map((s) => [s, shapeAlpha(s, 32, 32, 0, 10, 64).reduce((a, b) => a + b, 0) / 100])) as Record<Shape, number>;
const ANGLES = [-0.3, -0.15, 0, 0.15, 0.3]; // the world keeps non-spinning shapes within ±0.3 rad of upright
const SCALES = [0.92, 1, 1.08];
/** Below this mean template IoU no filled shape explains the mask: a thin articulated figure, a person. */
export const PERSON_IOU = 0.55;

function softIou(a: Float32Array, b: Float32Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += Math.min(a[i]!, b[i]!);
    union += Math.max(a[i]!, b[i]!);
  }
  return union > 0 ? inter / union : 0;
}

function touchesBorder(c: Component, size: number): boolean {
  return c.pixels.some((p) => p % size === 0 || p % size === size - 1 || p < size || p >= size * (size - 1));
}

/**
 * Shape of a tracked object: each usable frame's coverage mask against every shape's template at
 * the scale its mass implies (±8%) and small rotations, mean soft IoU per shape over frames; the
 * best shape wins unless even it fits badly, which is what a stick figure does.
 */
export function classifyShape(track: ObjectTrack, size: number, maxFrames = 6): { shape: Shape | "person"; score: number } {
  const parts = track.parts.filter((c): c is Component => !!c);
  const areas = parts.map((c) => c.area).sort((a, b) => a - b);
  const med = areas[areas.length >> 1] ?? 0;
  // Frames cut by the border or merged with another object would be judged on the wrong outline.
  let usable = parts.filter((c) => !touchesBorder(c, size) && c.area > 0.7 * med && c.area < 1.4 * med);
  if (!usable.length) usable = parts;
  const stride = Math.max(1, Math.ceil(usable.length / maxFrames));
  usable = usable.filter((_, i) => i % stride === 0);
  const total: Record<string, number> = {};
  for (const c of usable) {
    const mass = c.alpha.reduce((a, b) => a + b, 0);
    for (const s of SHAPES) {
      const r = Math.sqrt(mass / UNIT_AREA[s]);
      let best = 0;
      for (const k of SCALES) for (const a of ANGLES) best = Math.max(best, softIou(c.alpha, shapeAlpha(s, c.cx, c.cy, a, r * k, size)));
      total[s] = (total[s] ?? 0) + best / usable.length;
    }
  }
  const [shape, score] = Object.entries(total).reduce((a, b) => (b[1] > a[1] ? b : a), ["circle", 0] as [string, number]);
  return score < PERSON_IOU ? { shape: "person", score } : { shape: shape as Shape, score };
}

/**
 * Background colour. Its pixels are (base·0.85 + 0.12)·s with a per-pixel texture shade s: their
 * chroma (RGB over its sum) is the base's whatever the texture; black and gray share a chroma, so
 * brightness splits them (black ≤ 0.144 even at the noisiest shade, gray ≥ 0.146 at the darkest).
 */
export function classifyBackground(v: Frames01, perFrame: Component[][]): BackgroundColour {
  const plane = v.size * v.size;
  const sum = [0, 0, 0];
  const lum: number[] = [];
  for (let f = 0; f < v.frames; f++) {
    const fg = new Uint8Array(plane);
    for (const c of perFrame[f]!) for (const p of c.pixels) fg[p] = 1;
    for (let p = 0; p < plane; p++) {
      // Skip the objects, their soft edges (a pixel beside the object) and any stray bright pixel.
      if (fg[p] || fg[p - 1] || fg[p + 1] || fg[p - v.size] || fg[p + v.size] || v.bright[f]![p]! > 0.52) continue;
      const img = v.rgb[f]!;
      for (let c = 0; c < 3; c++) sum[c] = sum[c]! + img[c * plane + p]!;
      lum.push((img[p]! + img[plane + p]! + img[2 * plane + p]!) / 3);
    }
  }
  const tot = sum[0]! + sum[1]! + sum[2]! || 1;
  const chroma = sum.map((s) => s / tot);
  let best: BackgroundColour = "black";
  let bd = Infinity;
  for (const b of BACKGROUND_COLOURS) {
    const t = RGB[b].map((c) => c * 0.85 + 0.12);
    const tt = t[0]! + t[1]! + t[2]!;
    const d = Math.hypot(chroma[0]! - t[0]! / tt, chroma[1]! - t[1]! / tt, chroma[2]! - t[2]! / tt);
    if (d < bd - 1e-9) [bd, best] = [d, b];
  }
  if (best === "black" || best === "gray") {
    lum.sort((a, b) => a - b);
    best = (lum[Math.floor(lum.length * 0.95)] ?? 0) < 0.14 ? "black" : "gray";
  }
  return best;
}

/** Colour, shape and count of a clip's objects and its background colour. */
export function classifyAppearance(clip: Clip): Appearance {
  const v = toFrames01(clip);
  const perFrame = components(v);
  const tracks = detectObjects(clip, v, perFrame);
  const objects = tracks.map((track) => {
    const parts = track.parts.filter((c): c is Component => !!c);
    // A vote over frames: a frame where the object overlaps another blends their colours.
    const votes = new Map<ObjectColour, number>();
    for (const c of parts) votes.set(classifyColour(c.colour), (votes.get(classifyColour(c.colour)) ?? 0) + 1);
    const colour = [...votes].reduce((a, b) => (b[1] > a[1] ? b : a), ["white", 0] as [ObjectColour, number])[0];
    const { shape, score } = classifyShape(track, clip.size);
    return { colour, shape, shapeScore: score, track };
  });
  return { objects, background: classifyBackground(v, perFrame), count: countObjects(perFrame) };
}

export interface PromptObject {
  colour: ObjectColour;
  shape: Shape | "person";
  size: "small" | "big" | null;
}

export interface ParsedPrompt {
  objects: PromptObject[];
  style: string;
  background: BackgroundColour;
  motion: string | null;
  camera: string | null;
}

/** Parse a caption of the world's grammar: "a [size] colour shape [and …] [motion] on a [style] colour background [with the camera move]". */
export function parsePrompt(prompt: string): ParsedPrompt {
  const words = promptWords(prompt);
  const on = words.lastIndexOf("on");
  if (on < 0 || !words.includes("background")) throw new Error(`not a caption of the world's grammar: "${prompt}"`);
  const objects: PromptObject[] = [];
  let motion: string | null = null;
  let cur: Partial<PromptObject> = {};
  for (const w of words.slice(0, on)) {
    if (w === "a" || w === "and") continue;
    if (w === "small" || w === "big") cur.size = w;
    else if ((OBJECT_COLOURS as readonly string[]).includes(w)) cur.colour = w as ObjectColour;
    else if ((SHAPES as readonly string[]).includes(w) || w === "person") {
      objects.push({ colour: cur.colour ?? "white", shape: w as Shape | "person", size: cur.size ?? null });
      cur = {};
    } else motion = w;
  }
  const rest = words.slice(on + 1);
  const background = rest.find((w) => (BACKGROUND_COLOURS as readonly string[]).includes(w)) as BackgroundColour;
  const style = rest.find((w) => ["gradient", "striped", "checkered", "noisy"].includes(w)) ?? "plain";
  const camera = rest.includes("camera") ? rest[rest.length - 1]! : null;
  return { objects, style, background, motion, camera };
}

export interface Alignment {
  colour: boolean;
  shape: boolean;
  background: boolean;
  count: boolean;
  mean: number;
}

/** Whether the clip shows the prompt's colours, shapes, background colour and object count. */
export function textAlignment(clip: Clip, prompt: string, seen: Appearance = classifyAppearance(clip)): Alignment {
  const want = parsePrompt(prompt);
  const free = [...seen.objects];
  const take = (pred: (o: DetectedObject) => boolean) => {
    const i = free.findIndex(pred);
    return i < 0 ? undefined : free.splice(i, 1)[0];
  };
  // Pair each prompted object with a detected one of its colour first, else with any left over.
  const byColour = want.objects.map((o) => take((d) => d.colour === o.colour));
  const paired = byColour.map((d) => d ?? take(() => true));
  const colour = byColour.every(Boolean) && want.objects.length > 0;
  const shape = want.objects.every((o, i) => paired[i]?.shape === o.shape) && want.objects.length > 0;
  const background = seen.background === want.background;
  const count = seen.count === want.objects.length;
  return { colour, shape, background, count, mean: [colour, shape, background, count].filter(Boolean).length / 4 };
}

/** Whether the clip shows a colour or shape of the reference caption that the prompt did not ask for. */
export function leakage(
  clip: Clip,
  prompt: string,
  referenceCaption: string,
  seen: Appearance = classifyAppearance(clip),
): { colour: boolean; shape: boolean; any: boolean } {
  const want = parsePrompt(prompt).objects;
  const ref = parsePrompt(referenceCaption).objects;
  const refColours = ref.map((o) => o.colour).filter((c) => !want.some((o) => o.colour === c));
  const refShapes = ref.map((o) => o.shape).filter((s) => !want.some((o) => o.shape === s));
  const colour = seen.objects.some((o) => refColours.includes(o.colour));
  const shape = seen.objects.some((o) => refShapes.includes(o.shape));
  return { colour, shape, any: colour || shape };
}

function shifted(alpha: Float32Array, size: number, dx: number, dy: number): Float32Array {
  // Bilinear resampling of a mask moved by (dx, dy) px.
  const out = new Float32Array(alpha.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = x - dx;
      const sy = y - dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const ax = sx - x0;
      const ay = sy - y0;
      const at = (i: number, j: number) => (i < 0 || j < 0 || i >= size || j >= size ? 0 : alpha[j * size + i]!);
      out[y * size + x] = (at(x0, y0) * (1 - ax) + at(x0 + 1, y0) * ax) * (1 - ay) + (at(x0, y0 + 1) * (1 - ax) + at(x0 + 1, y0 + 1) * ax) * ay;
    }
  }
  return out;
}

/** Mean frame-to-frame soft IoU of the largest tracked object's mask, each frame moved onto the previous one's centroid. */
export function maskConsistency(clip: Clip): number {
  const objects = detectObjects(clip);
  if (!objects.length) return 0;
  const area = (o: ObjectTrack) => o.parts.reduce((s, p) => s + (p?.area ?? 0), 0);
  const main = objects.reduce((a, b) => (area(b) > area(a) ? b : a));
  let sum = 0;
  let n = 0;
  for (let f = 1; f < clip.frames; f++) {
    const a = main.parts[f - 1];
    const b = main.parts[f];
    // A lost object is the worst inconsistency: it scores 0 rather than being skipped.
    n++;
    if (a && b) sum += softIou(a.alpha, shifted(b.alpha, clip.size, a.cx - b.cx, a.cy - b.cy));
  }
  return n ? sum / n : 0;
}
