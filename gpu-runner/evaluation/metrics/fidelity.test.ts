import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mainTrajectoryCorrelation, motionFidelity, trackletCorrelation, trajectoryCorrelation, truthTracks } from "./fidelity.ts";
import { FRAMES, paintClip, stillPath } from "./paint.ts";
import type { Track } from "./point-track.ts";
import { tracksFor } from "./tracker.ts";

const loop: Track = Array.from({ length: FRAMES }, (_, f) => [16 + 8 * Math.cos((f / FRAMES) * 2 * Math.PI), 16 + 8 * Math.sin((f / FRAMES) * 2 * Math.PI)]);
const shift = (t: Track, dx: number, dy: number): Track => t.map(([x, y]) => [x + dx, y + dy]);
const reverse = (t: Track): Track => t.map(([x, y]) => [32 - x, 32 - y]);
// Corners with stops: the reference families the stillness rule exists for.
const stopGo: Track = Array.from({ length: FRAMES }, (_, f) => (f < 5 ? [6 + 2 * f, 10] : f < 9 ? [14, 10] : [14, 10 + 2 * (f - 8)]));

describe("motion fidelity (DMT)", () => {
  it("is 1 for identical motion, also shifted elsewhere in the frame", () => {
    const set = [loop, shift(loop, 3, -2), stopGo];
    assert.equal(motionFidelity(set, set), 1);
    assert.equal(motionFidelity([shift(stopGo, 5, 5)], set), 1);
  });

  it("is −1 for reversed motion and 0 for a still clip against a moving one", () => {
    assert.ok(motionFidelity([reverse(loop)], [loop]) < -0.999);
    assert.equal(motionFidelity([stillPath(10, 10)], [loop]), 0);
    assert.equal(motionFidelity([loop], [stillPath(10, 10)]), 0);
  });

  it("counts shared stops as agreement and one-sided stops as none", () => {
    // stopGo is still for 4 of its 15 steps; a track moving on throughout matches it only where it moves.
    const mover: Track = Array.from({ length: FRAMES }, (_, f) => (f < 9 ? [6 + 2 * f, 10] : [22, 10 + 2 * (f - 8)]));
    assert.ok(Math.abs(trackletCorrelation(mover, stopGo) - 11 / 15) < 1e-9);
    // Sub-ε jitter during a stop is still a stop.
    const jitter = stopGo.map(([x, y], f) => [x + (f % 2 ? 0.1 : -0.1), y] as [number, number]);
    assert.ok(trackletCorrelation(jitter, stopGo) > 0.99);
  });

  it("picks the best reference tracklet per generated one, and the symmetric form penalises missing motion", () => {
    const ref = [loop, stopGo];
    assert.equal(motionFidelity([stopGo], ref), 1);
    assert.ok(motionFidelity([stopGo], ref, { symmetric: true }) < 0.8);
  });

  it("scores tracker tracks of a painted clip high against its truth and low against another motion", () => {
    const clip = paintClip({ background: "gray", style: "noisy", sprites: [{ colour: "magenta", shape: "diamond", path: stopGo }] });
    const tracks = tracksFor(clip, "single-object");
    assert.ok(motionFidelity(tracks, [stopGo]) > 0.95);
    assert.ok(motionFidelity(tracks, [loop]) < 0.5);
    assert.ok(mainTrajectoryCorrelation(clip, stopGo, "single-object") > 0.99);
    assert.ok(trajectoryCorrelation(stopGo, reverse(stopGo)) < -0.99);
  });

  it("derives camera tracks from ground truth as the renderer places the world", () => {
    const camera: [number, number, number][] = Array.from({ length: FRAMES }, (_, f) => [f, 0, 1]);
    const tracks = truthTracks({ paths: [], camera }, "camera-motion");
    assert.equal(tracks.length, 25);
    // A pan right moves content left by one pixel a frame.
    for (const t of tracks) assert.deepEqual(t[FRAMES - 1], [t[0]![0] - (FRAMES - 1), t[0]![1]]);
    const zoom: [number, number, number][] = Array.from({ length: FRAMES }, (_, f) => [0, 0, 1 + f / 15]);
    const z = truthTracks({ paths: [], camera: zoom }, "camera-motion");
    assert.deepEqual(z[12]![FRAMES - 1], [16, 16]);
    assert.deepEqual(z[0]![FRAMES - 1], [16 - 12 * 2, 16 - 12 * 2]);
  });
});
