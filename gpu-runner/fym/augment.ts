// Appearance augmentation of a reference clip for the temporal stage: the clip's objects and
// background recoloured to other colours of the world's palette, with the caption's colour words
// changed to match, so a motion LoRA sees the same motion under several appearances and cannot
// learn it as "move THIS appearance's features". Works from the caption and the pixels alone.
import type { Clip } from "../core/clip.ts";
import { BACKGROUND_COLOURS, OBJECT_COLOURS, RGB } from "../core/palette.ts";
import type { Rng } from "../core/rng.ts";

/**
 * The world's palette by colour word (gpu-runner/core/palette.ts). A background is drawn as
 * (base·0.85 + 0.12)·shade, an object over it as bg·(1 − α) + colour·α.
 */
export const OBJECT_RGB: Record<string, [number, number, number]> = Object.fromEntries(OBJECT_COLOURS.map((c) => [c, RGB[c]]));
export const BACKGROUND_RGB: Record<string, [number, number, number]> = Object.fromEntries(BACKGROUND_COLOURS.map((c) => [c, RGB[c]]));
const tint = (c: [number, number, number]): [number, number, number] => [c[0] * 0.85 + 0.12, c[1] * 0.85 + 0.12, c[2] * 0.85 + 0.12];

export interface AppearanceVariant {
  clip: Clip;
  caption: string;
}

/** What the fit found: per object colour its confidently covered pixels, the background's, and the fit's RMS error. */
export interface PaletteFit {
  objects: string[];
  background: string | null;
  /** Pixels (over all frames) each object colour covers with α ≥ 0.6. */
  covered: Record<string, number>;
  /** Pixels explained by the background alone. */
  backgroundPixels: number;
  rms: number;
  /** Why the clip cannot be recoloured (null when it can). */
  refused: string | null;
}

type V3 = [number, number, number];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** The caption's object colour words (in order, once each) and its background colour word. */
export function captionColours(caption: string): { objects: string[]; background: string | null } {
  const words = caption.toLowerCase().split(/\s+/);
  const objects: string[] = [];
  let background: string | null = null;
  for (const w of words) {
    if (w in OBJECT_RGB && !objects.includes(w)) objects.push(w);
    if (w in BACKGROUND_RGB && background === null) background = w;
  }
  return { objects, background };
}

/**
 * Per pixel: which of the named object colours (or none) it shows, its coverage α and the
 * background's amount u, from the model c ≈ u·T + α·C (T the background's tint, C the object colour),
 * least squares with α in [0, 1], u ≥ 0. Where T and C are parallel (white on black or gray) u is
 * taken from the clip's median background shade instead.
 */
function fitPixels(clip: Clip, T: V3, cols: V3[]) {
  const plane = clip.size * clip.size;
  const n = clip.frames * plane;
  const px = (i: number): V3 => {
    const f = Math.floor(i / plane);
    const p = i % plane;
    const base = f * 3 * plane + p;
    return [(clip.data[base]! + 1) / 2, (clip.data[base + plane]! + 1) / 2, (clip.data[base + 2 * plane]! + 1) / 2];
  };
  const tt = dot(T, T);
  // A background's shade factor stays within [0.3, 1.2] in the world (the noisy style's extremes):
  // a pixel brighter than that along T (white on black) is not background.
  const U_MAX = 1.25;
  // Pass 1: background-only fit. Where T and an object colour are parallel, the shade under a pixel is
  // taken from the well-explained background pixels around it (5×5, median), else the clip's median.
  const size = clip.size;
  const bgShade = new Float32Array(n).fill(NaN);
  const shades: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = px(i);
    const s = dot(T, c) / tt;
    const r: V3 = [c[0] - s * T[0], c[1] - s * T[1], c[2] - s * T[2]];
    if (s >= 0 && s <= U_MAX && dot(r, r) < 0.002) {
      bgShade[i] = s;
      if (i % 7 === 0) shades.push(s);
    }
  }
  shades.sort((a, b) => a - b);
  const sBar = shades.length ? shades[Math.floor(shades.length / 2)]! : 0.7;
  const localShade = (i: number) => {
    const f = Math.floor(i / plane);
    const y0 = Math.floor((i % plane) / size);
    const x0 = i % size;
    const near: number[] = [];
    for (let y = Math.max(0, y0 - 2); y <= Math.min(size - 1, y0 + 2); y++)
      for (let x = Math.max(0, x0 - 2); x <= Math.min(size - 1, x0 + 2); x++) {
        const s = bgShade[f * plane + y * size + x]!;
        if (!Number.isNaN(s) && (x !== x0 || y !== y0)) near.push(s);
      }
    if (near.length < 3) return sBar;
    near.sort((a, b) => a - b);
    return near[near.length >> 1]!;
  };
  const which = new Int8Array(n).fill(-1);
  const alpha = new Float32Array(n);
  const u = new Float32Array(n);
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const c = px(i);
    let best = -1;
    let bestU = Math.min(U_MAX, Math.max(0, dot(T, c) / tt));
    let bestA = 0;
    let bestR = (() => {
      const r: V3 = [c[0] - bestU * T[0], c[1] - bestU * T[1], c[2] - bestU * T[2]];
      return dot(r, r);
    })();
    for (const [k, C] of cols.entries()) {
      const tc = dot(T, C);
      const cc = dot(C, C);
      const det = tt * cc - tc * tc;
      let a: number;
      let uu: number;
      if (det < 1e-3 * tt * cc) {
        // Parallel: c − s̄T ≈ α(C − s̄T), s̄ the shade around the pixel.
        const sBar = localShade(i);
        const d: V3 = [C[0] - sBar * T[0], C[1] - sBar * T[1], C[2] - sBar * T[2]];
        const e: V3 = [c[0] - sBar * T[0], c[1] - sBar * T[1], c[2] - sBar * T[2]];
        a = Math.min(1, Math.max(0, dot(d, e) / Math.max(1e-9, dot(d, d))));
        uu = (1 - a) * sBar;
      } else {
        const tcv = dot(T, c);
        const ccv = dot(C, c);
        a = (tt * ccv - tc * tcv) / det;
        a = Math.min(1, Math.max(0, a));
        uu = Math.min(U_MAX, Math.max(0, (tcv - a * tc) / tt));
      }
      const r: V3 = [c[0] - uu * T[0] - a * C[0], c[1] - uu * T[1] - a * C[1], c[2] - uu * T[2] - a * C[2]];
      const rr = dot(r, r);
      // An object needs a clearly better fit than the background alone (ties stay background).
      if (a > 0.02 && rr < bestR - 1e-5) {
        best = k;
        bestR = rr;
        bestA = a;
        bestU = uu;
      }
    }
    which[i] = best;
    alpha[i] = bestA;
    u[i] = bestU;
    sse += bestR;
  }
  return { which, alpha, u, rms: Math.sqrt(sse / (3 * n)), px };
}

/**
 * Fits the caption's palette colours to the clip's pixels. Refuses (graceful: the clip then trains
 * unaugmented) when the caption names no palette colour, a named object colour covers too few
 * pixels, the named background explains too little of the frame, or the fit's error is large.
 */
export function fitPalette(clip: Clip, caption: string): PaletteFit & { fit: ReturnType<typeof fitPixels> | null } {
  const { objects, background } = captionColours(caption);
  const base: PaletteFit = { objects, background, covered: {}, backgroundPixels: 0, rms: NaN, refused: null };
  if (!objects.length && !background) return { ...base, refused: "the caption names no palette colour", fit: null };
  // Without a background word the background stays as it is: fit it as black's tint (a dark, neutral guess).
  const T = tint(BACKGROUND_RGB[background ?? "black"]!);
  const fit = fitPixels(
    clip,
    T,
    objects.map((o) => OBJECT_RGB[o]!),
  );
  const covered: Record<string, number> = Object.fromEntries(objects.map((o) => [o, 0]));
  let bg = 0;
  for (let i = 0; i < fit.which.length; i++) {
    const k = fit.which[i]!;
    if (k >= 0 && fit.alpha[i]! >= 0.6) covered[objects[k]!]!++;
    if (k < 0) bg++;
  }
  const out = { ...base, covered, backgroundPixels: bg, rms: fit.rms, fit };
  const minCover = 2 * clip.frames; // about the smallest object's core, over the clip
  const missing = objects.filter((o) => covered[o]! < minCover);
  if (missing.length) return { ...out, refused: `caption colour(s) ${missing.join(", ")} not found in the pixels` };
  if (background && bg < 0.3 * fit.which.length) return { ...out, refused: `the ${background} background explains only ${bg} of ${fit.which.length} pixels` };
  if (fit.rms > 0.06) return { ...out, refused: `the palette fit's RMS error is ${fit.rms.toFixed(3)}` };
  return out;
}

/** Replaces whole colour words of a caption by the map. */
function recaption(caption: string, map: Record<string, string>): string {
  return caption
    .split(/(\s+)/)
    .map((w) => map[w.toLowerCase()] ?? w)
    .join("");
}

/**
 * `count` recoloured variants of a reference clip, each with its objects moved to other object
 * colours (distinct from each other and from their own) and its background to another background
 * colour, shading, edges and whatever the fit did not explain kept (c' = c + fit' − fit); the
 * caption's colour words changed to match. Empty, with the reason, when the palette fit refuses.
 */
export function appearanceVariants(clip: Clip, caption: string, count: number, rng: Rng): { variants: AppearanceVariant[]; refused: string | null } {
  const fitted = fitPalette(clip, caption);
  if (fitted.refused || !fitted.fit) return { variants: [], refused: fitted.refused };
  const { objects, background } = fitted;
  const { which, alpha, u, px } = fitted.fit;
  const T = tint(BACKGROUND_RGB[background ?? "black"]!);
  const objectPool = Object.keys(OBJECT_RGB);
  const bgPool = Object.keys(BACKGROUND_RGB);
  const plane = clip.size * clip.size;
  const variants: AppearanceVariant[] = [];
  for (let v = 0; v < count; v++) {
    const map: Record<string, string> = {};
    const taken = new Set<string>();
    for (const o of objects) {
      const choices = objectPool.filter((c) => c !== o && !taken.has(c));
      const pick = choices[rng.int(choices.length)]!;
      taken.add(pick);
      map[o] = pick;
    }
    if (background) {
      const choices = bgPool.filter((c) => c !== background);
      map[background] = choices[rng.int(choices.length)]!;
    }
    const T2 = background ? tint(BACKGROUND_RGB[map[background]!]!) : T;
    const cols2 = objects.map((o) => OBJECT_RGB[map[o]!]!);
    const cols = objects.map((o) => OBJECT_RGB[o]!);
    const data = new Float32Array(clip.data.length);
    for (let i = 0; i < which.length; i++) {
      const c = px(i);
      const k = which[i]!;
      const f = Math.floor(i / plane);
      const p = i % plane;
      for (let ch = 0; ch < 3; ch++) {
        const old = u[i]! * T[ch]! + (k >= 0 ? alpha[i]! * cols[k]![ch]! : 0);
        const now = u[i]! * T2[ch]! + (k >= 0 ? alpha[i]! * cols2[k]![ch]! : 0);
        const x = Math.min(1, Math.max(0, c[ch]! + now - old));
        data[f * 3 * plane + ch * plane + p] = x * 2 - 1;
      }
    }
    variants.push({ clip: { frames: clip.frames, size: clip.size, data }, caption: recaption(caption, map) });
  }
  return { variants, refused: null };
}
