// Scores generated clips against their MotionBench case, on threads of their own (node:worker_threads): the metrics are plain
// CPU work (~70–140 ms a clip), and a full run scores thousands of clips while the GPU generates.
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker as Thread } from "node:worker_threads";
import type { Clip } from "../../core/clip.ts";
import { classifyAppearance, leakage, maskConsistency, textAlignment } from "../metrics/appearance.ts";
import { mainTrajectoryCorrelation, motionFidelity, truthTracks } from "../metrics/fidelity.ts";
import { tracksFor } from "../metrics/tracker.ts";
import { loadMotionBench, type BenchClip } from "./motionbench-cases.ts";

export interface Scores {
  /** Why the clip could not be scored (non-finite pixels, a metric that failed); its scores are then 0. */
  failed?: string;
  fidelity: number;
  correlation: number;
  alignment: number;
  colour: number;
  shape: number;
  background: number;
  count: number;
  consistency: number;
  leakage: number;
}

/** Every MotionBench metric of one generated clip for a case and the prompt it was generated from. */
export function score(ref: BenchClip, clip: Clip, prompt: string): Scores {
  // A diverged recipe can give NaN pixels; that is a failed generation, scored as nothing right.
  if (!clip.data.every(Number.isFinite)) return failed("non-finite pixels");
  const seen = classifyAppearance(clip);
  const align = textAlignment(clip, prompt, seen);
  return {
    fidelity: motionFidelity(tracksFor(clip, ref.category), truthTracks(ref.truth, ref.category)),
    correlation: mainTrajectoryCorrelation(clip, ref.clip, ref.category),
    alignment: align.mean,
    colour: align.colour ? 1 : 0,
    shape: align.shape ? 1 : 0,
    background: align.background ? 1 : 0,
    count: align.count ? 1 : 0,
    consistency: maskConsistency(clip),
    leakage: leakage(clip, prompt, ref.caption, seen).any ? 1 : 0,
  };
}

const failed = (why: string): Scores => ({
  failed: why,
  fidelity: 0,
  correlation: 0,
  alignment: 0,
  colour: 0,
  shape: 0,
  background: 0,
  count: 0,
  consistency: 0,
  leakage: 0,
});

/** A pool of scoring threads (one per core, less one for the main thread). */
export class ScorePool {
  private readonly threads: Thread[] = [];
  private next = 0;
  private seq = 0;
  private readonly waiting = new Map<number, (s: Scores) => void>();

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
  }

  private readonly assigned = new Map<Thread, Set<number>>();

  /** A thread; if it dies (a metric ran out of memory on a degenerate clip), its clips fail and a new one takes its place. */
  private spawn(): Thread {
    // The thread runs this TypeScript file, so it registers tsx's loader before importing it.
    const boot = `import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const w = new Thread(boot, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.assigned.set(w, new Set());
    w.on("message", (m: { id: number; scores: Scores }) => {
      this.assigned.get(w)?.delete(m.id);
      this.waiting.get(m.id)?.(m.scores);
      this.waiting.delete(m.id);
    });
    w.on("error", (e) => {
      for (const id of this.assigned.get(w) ?? []) {
        this.waiting.get(id)?.(failed(`scoring thread died: ${e.message}`));
        this.waiting.delete(id);
      }
      this.assigned.delete(w);
      const k = this.threads.indexOf(w);
      if (k >= 0 && !this.closing) this.threads[k] = this.spawn();
    });
    return w;
  }

  private closing = false;

  score(caseName: string, clip: Clip, prompt: string): Promise<Scores> {
    const id = ++this.seq;
    const w = this.threads[this.next++ % this.threads.length]!;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.assigned.get(w)?.add(id);
      w.postMessage({ id, caseName, data: clip.data, frames: clip.frames, size: clip.size, prompt });
    });
  }

  async close() {
    this.closing = true;
    await Promise.all(this.threads.map((w) => w.terminate()));
  }
}

if (!isMainThread) {
  const cases = new Map(loadMotionBench().map((c) => [c.name, c]));
  parentPort!.on("message", (m: { id: number; caseName: string; data: Float32Array; frames: number; size: number; prompt: string }) => {
    const scores = score(cases.get(m.caseName)!, { frames: m.frames, size: m.size, data: m.data }, m.prompt);
    parentPort!.postMessage({ id: m.id, scores });
  });
}
