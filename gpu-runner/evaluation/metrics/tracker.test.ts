import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Worker as Thread } from "node:worker_threads";
import { motionFidelity } from "./fidelity.ts";
import { FRAMES, paintClip, personAlpha, personSkeleton, stillPath, type Joints, type Shape, type Style } from "./paint.ts";
import { cameraTracks } from "./camera.ts";
import type { Track } from "./point-track.ts";
import { detectObjects, foregroundPointTracks, objectTracks, tracksFor } from "./tracker.ts";
import { toFrames01 } from "./segment.ts";

const step = (t: Track, f: number): [number, number] => [t[f]![0] - t[f - 1]![0], t[f]![1] - t[f - 1]![1]];
const err = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);

// A path with a corner, a stop of three frames and sub-pixel steps: what the new reference motions do.
const cornerPath: Track = Array.from({ length: FRAMES }, (_, f) => {
  if (f < 6) return [7 + f * 1.7, 9 + f * 0.35];
  if (f < 9) return [7 + 5 * 1.7, 9 + 5 * 0.35];
  return [15.5 - (f - 9) * 0.45, 10.75 + (f - 9) * 1.9];
});

describe("tracker", () => {
  it("recovers an object's per-frame displacement within 0.5 px, centroid and grid tracks, on every background style", () => {
    let worstCentroid = 0;
    let worstGrid = 0;
    for (const style of ["plain", "gradient", "striped", "checkered", "noisy"] as Style[]) {
      for (const shape of ["square", "star", "cross"] as Shape[]) {
        const clip = paintClip({
          background: "navy",
          style,
          styleAngle: 1.1,
          sprites: [{ colour: "orange", shape, size: "small", path: cornerPath, angle: Array(FRAMES).fill(0.08) }],
        });
        const v = toFrames01(clip);
        const objects = detectObjects(clip, v);
        assert.equal(objects.length, 1, `${style} ${shape}`);
        const grid = foregroundPointTracks(clip, objects, v);
        assert.ok(grid.length >= 3, `${style} ${shape}: ${grid.length} grid tracks`);
        for (let f = 1; f < FRAMES; f++) {
          const truth = step(cornerPath, f);
          worstCentroid = Math.max(worstCentroid, err(step(objects[0]!.centroid, f), truth));
          const meanGrid = grid.reduce((s, t) => s + err(step(t, f), truth), 0) / grid.length;
          worstGrid = Math.max(worstGrid, meanGrid);
        }
      }
    }
    assert.ok(worstCentroid < 0.5, `worst centroid displacement error ${worstCentroid.toFixed(3)} px`);
    assert.ok(worstGrid < 0.5, `worst mean grid displacement error ${worstGrid.toFixed(3)} px`);
  });

  it("keeps three objects apart, each on its own path, through a crossing", () => {
    const paths: Track[] = [
      Array.from({ length: FRAMES }, (_, f) => [5 + f * 1.5, 16]),
      Array.from({ length: FRAMES }, (_, f) => [16, 5 + f * 1.4]),
      Array.from({ length: FRAMES }, () => [26, 26]),
    ];
    const colours = ["red", "green", "white"] as const;
    const clip = paintClip({
      background: "gray",
      style: "checkered",
      sprites: paths.map((path, i) => ({ colour: colours[i]!, shape: "circle" as const, size: "small" as const, path })),
    });
    const objects = detectObjects(clip);
    assert.equal(objects.length, 3);
    for (const path of paths) {
      // The track that starts on this path must stay within 1 px of it at both ends (no identity swap).
      const t = objects.find((o) => err(o.centroid[0]!, path[0]!) < 1);
      assert.ok(t, `no track starts at ${path[0]}`);
      assert.ok(err(t.centroid[FRAMES - 1]!, path[FRAMES - 1]!) < 1, `ends at ${t.centroid[FRAMES - 1]} not ${path[FRAMES - 1]}`);
    }
  });

  it("follows camera pans, tilts and zooms to within 0.5 px over the whole clip", () => {
    const moves: Record<string, [number, number, number][]> = {
      pan: Array.from({ length: FRAMES }, (_, f) => [f * 0.9, 0, 1]),
      tilt: Array.from({ length: FRAMES }, (_, f) => [0, -f * 0.8, 1]),
      "zoom in": Array.from({ length: FRAMES }, (_, f) => [0, 0, 1 + (0.4 * f) / 15]),
      "zoom out while panning": Array.from({ length: FRAMES }, (_, f) => [0.4 * f, 0, 1 - (0.3 * f) / 15]),
    };
    for (const [name, camera] of Object.entries(moves)) {
      for (const style of ["striped", "checkered", "noisy"] as Style[]) {
        const clip = paintClip({ background: "teal", style, styleAngle: 0.5, sprites: [{ colour: "red", shape: "circle", path: stillPath(16, 16) }], camera });
        let worst = 0;
        for (const t of cameraTracks(clip)) {
          const [dx0, dy0, z0] = camera[0]!;
          const wx = (t[0]![0] - 16) / z0 + 16 + dx0;
          const wy = (t[0]![1] - 16) / z0 + 16 + dy0;
          for (const [f, [dx, dy, z]] of camera.entries()) worst = Math.max(worst, err(t[f]!, [(wx - 16 - dx) * z + 16, (wy - 16 - dy) * z + 16]));
        }
        assert.ok(worst < 0.5, `${name} on ${style}: worst track error ${worst.toFixed(3)} px`);
      }
    }
  });

  it("tracks a walking stick figure: centroid with its mass, grid tracks with its joints", () => {
    const joints: Joints[] = Array.from({ length: FRAMES }, (_, f) => {
      const s = Math.sin(f * 0.8);
      return [0.6 * s, 0.3, -0.6 * s, 0.3, -0.5 * s, 0.4 * Math.max(0, -s), 0.5 * s, 0.4 * Math.max(0, s)];
    });
    const hip: Track = Array.from({ length: FRAMES }, (_, f) => [9 + f * 0.9, 19 - 0.6 * Math.abs(Math.sin(f * 0.8))]);
    const clip = paintClip({ background: "maroon", style: "gradient", sprites: [{ colour: "cyan", shape: "person", path: hip, joints }] });
    const tracks = tracksFor(clip, "human-motion");
    assert.ok(tracks.length >= 6, `${tracks.length} tracks`);
    // The true mass centre of the rendered figure per frame.
    const mass: Track = hip.map((h, f) => {
      const a = personAlpha(h, 0, joints[f]!);
      let s = 0;
      let sx = 0;
      let sy = 0;
      a.forEach((w, p) => {
        s += w;
        sx += w * ((p % 32) + 0.5);
        sy += w * (Math.floor(p / 32) + 0.5);
      });
      return [sx / s, sy / s];
    });
    for (let f = 1; f < FRAMES; f++) assert.ok(err(step(tracks[0]!, f), step(mass, f)) < 0.5, `centroid track, frame ${f}`);
    // Every grid track should move like some joint of the skeleton (DMT fidelity against joint tracks).
    const names = Object.keys(personSkeleton(hip[0]!, 0, joints[0]!).points);
    const jointTracks: Track[] = names.map((n) => hip.map((h, f) => personSkeleton(h, 0, joints[f]!).points[n]!));
    const fidelity = motionFidelity(tracks, jointTracks);
    assert.ok(fidelity > 0.85, `fidelity to the joints ${fidelity.toFixed(3)}`);
  });

  it("gives no tracks on an empty clip and still tracks on a still object", () => {
    assert.deepEqual(objectTracks(paintClip({ background: "olive", style: "noisy", sprites: [] })), []);
    const still = objectTracks(
      paintClip({ background: "olive", style: "striped", sprites: [{ colour: "yellow", shape: "triangle", path: stillPath(12, 20) }] }),
    );
    for (const t of still) for (let f = 1; f < FRAMES; f++) assert.ok(Math.hypot(...step(t, f)) < 0.05);
  });

  it("tracks a clip of many blobs in bounded time (a degenerate generation hung the exhaustive matcher)", async () => {
    // Nine small objects in a 3×3 grid, drifting: 9!·9! candidate maps a frame for the old search,
    // one Hungarian solve now. A hang blocks its thread, so the work runs on a thread of its own under a deadline.
    const body = `
      const { FRAMES, paintClip } = await import(${JSON.stringify(new URL("./paint.ts", import.meta.url).href)});
      const { detectObjects } = await import(${JSON.stringify(new URL("./tracker.ts", import.meta.url).href)});
      const colours = ["red", "green", "blue", "yellow", "cyan", "magenta", "white", "orange", "red"];
      const sprites = colours.map((colour, i) => ({ colour, shape: "square", size: "small",
        path: Array.from({ length: FRAMES }, (_, f) => [5 + 10 * (i % 3) + 0.2 * f, 5 + 10 * Math.floor(i / 3)]) }));
      const objects = detectObjects(paintClip({ background: "black", style: "plain", sprites }));
      return objects.map((o) => o.centroid[FRAMES - 1][0] - o.centroid[0][0]);`;
    const boot = `import("tsx/esm/api").then(async (t) => { t.register(); const { parentPort } = await import("node:worker_threads"); parentPort.postMessage(await (async () => { ${body} })()); })`;
    const thread = new Thread(boot, { eval: true });
    const drift = await new Promise<number[] | "timeout">((resolve, reject) => {
      const timer = setTimeout(() => resolve("timeout"), 20_000);
      thread.once("message", (m: number[]) => {
        clearTimeout(timer);
        resolve(m);
      });
      thread.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    await thread.terminate();
    assert.notEqual(drift, "timeout", "detectObjects on nine blobs did not finish in 20 s");
    assert.equal((drift as number[]).length, 9);
    for (const d of drift as number[]) assert.ok(Math.abs(d - 0.2 * (FRAMES - 1)) < 0.5, `each blob drifts 0.2 px a frame: ${d}`);
  });
});
