/**
 * AdamW (decoupled weight decay) over flat Float32Array parameters, with linear warm-up, global
 * gradient-norm clipping, and masks: masked elements get no update and stay exactly as they are.
 */
export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  warmupSteps?: number;
  clipNorm?: number;
}

export class AdamW {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  private readonly opts: Required<AdamWOptions>;

  constructor(
    private readonly params: Float32Array[],
    opts: AdamWOptions,
    private readonly masks: (Uint8Array | null)[] = params.map(() => null),
  ) {
    this.opts = { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, warmupSteps: 0, clipNorm: 1, ...opts };
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  get step(): number {
    return this.t;
  }

  /** Applies one update from `grads` (same layout as the params); returns the pre-clip gradient norm. */
  update(grads: Float32Array[]): number {
    const {
      betas: [b1, b2],
      eps,
      weightDecay,
      warmupSteps,
      clipNorm,
    } = this.opts;
    let sq = 0;
    grads.forEach((g, k) => {
      const mask = this.masks[k];
      for (let i = 0; i < g.length; i++) if (!mask || mask[i]) sq += g[i]! * g[i]!;
    });
    const norm = Math.sqrt(sq);
    const clip = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.t++;
    const lr = this.opts.lr * (warmupSteps > 0 ? Math.min(1, this.t / warmupSteps) : 1);
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    this.params.forEach((p, k) => {
      const g = grads[k]!;
      const m = this.m[k]!;
      const v = this.v[k]!;
      const mask = this.masks[k];
      for (let i = 0; i < p.length; i++) {
        if (mask && !mask[i]) continue;
        const gi = g[i]! * clip;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        p[i] = p[i]! * (1 - lr * weightDecay) - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
      }
    });
    return norm;
  }
}
