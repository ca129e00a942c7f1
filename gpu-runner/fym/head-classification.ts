import type { Clip } from "../core/clip.ts";
import type { ModelConfig } from "../engine/base-model.ts";
import type { Engine } from "../engine/engine.ts";
import { Rng } from "../core/rng.ts";

export interface HeadClassification {
  spatial: number[][];
  temporal: number[][];
  /** Per block and head: [similarity to the spatial pseudo map, to the temporal one]. */
  scores: [number, number][][];
  margin: number;
  alpha: number;
}

/**
 * FYM stage 1: a head is temporal when its attention map's cosine similarity to the spatial
 * pseudo map, plus `margin`, is below `alpha` times its similarity to the temporal one (the
 * paper's S_spatial < α·S_temporal); otherwise spatial. `sims` is the probe's (depth, heads, 2) output.
 */
export function classifyHeads(cfg: ModelConfig, sims: Float32Array, margin = 0, alpha = 1): HeadClassification {
  const spatial: number[][] = [];
  const temporal: number[][] = [];
  const scores: [number, number][][] = [];
  for (let b = 0; b < cfg.depth; b++) {
    spatial.push([]);
    temporal.push([]);
    scores.push([]);
    for (let h = 0; h < cfg.heads; h++) {
      const sp = sims[(b * cfg.heads + h) * 2]!;
      const tp = sims[(b * cfg.heads + h) * 2 + 1]!;
      scores[b]!.push([sp, tp]);
      (alpha * tp > sp + margin ? temporal : spatial)[b]!.push(h);
    }
  }
  return { spatial, temporal, scores, margin, alpha };
}

/**
 * The probe input: the reference clip noised to t = 0.5 with a fixed seed, under its caption.
 * Mid-trajectory is where both layout and motion are being decided, so both kinds of head are active.
 */
export async function probeHeads(
  engine: Engine,
  clip: Clip,
  caption: string,
  opts: { t?: number; seed?: number; margin?: number; alpha?: number; encoded?: { text: Float32Array; mask: Float32Array } } = {},
) {
  const t = opts.t ?? 0.5;
  const noise = new Rng(opts.seed ?? 0).normals(clip.data.length);
  const x = new Float32Array(clip.data.length);
  for (let i = 0; i < x.length; i++) x[i] = (1 - t) * clip.data[i]! + t * noise[i]!;
  const { text, mask } = opts.encoded ?? (await engine.encodeText(caption));
  const framePos = Float32Array.from({ length: clip.frames }, (_, i) => i);
  const sims = await engine.probe(x, t, text, mask, framePos);
  return classifyHeads(engine.config, sims, opts.margin ?? 0, opts.alpha ?? 1);
}
