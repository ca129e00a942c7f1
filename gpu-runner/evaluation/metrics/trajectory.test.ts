import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadMotionBench } from "../motionbench/motionbench-cases.ts";
import type { Clip } from "../../core/clip.ts";
import { Rng } from "../../core/rng.ts";
import { globalShiftTrajectory, objectTrajectory, trajectoryAgreement, type Trajectory } from "./trajectory.ts";

const SIZE = 32;
const FRAMES = 16;

/** A 3×3-ish square moving along `path` on a dark background. */
function squareClip(path: Trajectory): Clip {
  const data = new Float32Array(FRAMES * 3 * SIZE * SIZE).fill(-0.8);
  path.forEach(([cx, cy], f) => {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        if (Math.abs(x + 0.5 - cx) <= 2 && Math.abs(y + 0.5 - cy) <= 2) for (let c = 0; c < 3; c++) data[(f * 3 + c) * SIZE * SIZE + y * SIZE + x] = 0.9;
      }
    }
  });
  return { frames: FRAMES, size: SIZE, data };
}

/** A random texture, each frame shifted by an integer offset (a camera pan/tilt). */
function pannedClip(shifts: Trajectory): Clip {
  const noise = new Rng(7).normals(96 * 96);
  const tex = (x: number, y: number) => noise[(y + 32) * 96 + (x + 32)]!;
  const data = new Float32Array(FRAMES * 3 * SIZE * SIZE);
  shifts.forEach(([dx, dy], f) => {
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) data[(f * 3 + c) * SIZE * SIZE + y * SIZE + x] = 0.5 * tex(x + dx, y + dy);
  });
  return { frames: FRAMES, size: SIZE, data };
}

const circle: Trajectory = Array.from({ length: FRAMES }, (_, f) => [
  16 + 8 * Math.cos((f / FRAMES) * 2 * Math.PI),
  16 + 8 * Math.sin((f / FRAMES) * 2 * Math.PI),
]);

describe("motion tracking and agreement", () => {
  it("tracks a moving object's centroid to within a pixel", () => {
    const got = objectTrajectory(squareClip(circle));
    got.forEach(([x, y], f) => {
      assert.ok(Math.hypot(x - circle[f]![0], y - circle[f]![1]) < 1, `frame ${f}: (${x}, ${y}) vs (${circle[f]})`);
    });
  });

  it("recovers a camera pan by phase correlation", () => {
    const shifts: Trajectory = Array.from({ length: FRAMES }, (_, f) => [f, Math.floor(f / 2)]);
    const got = globalShiftTrajectory(pannedClip(shifts));
    // Content moves opposite to the camera: a texture sampled at x + dx shifts left by dx.
    got.forEach(([x, y], f) => {
      assert.ok(Math.abs(x + shifts[f]![0]) < 0.6 && Math.abs(y + shifts[f]![1]) < 0.6, `frame ${f}: (${x}, ${y})`);
    });
  });

  it("scores identical motion 1, reversed motion -1, and unrelated motion near 0", () => {
    const same = trajectoryAgreement(circle, circle);
    assert.ok(same.displacementCosine > 0.999 && same.correlation > 0.999);
    const reversed = trajectoryAgreement(
      circle,
      circle.map(([x, y]) => [32 - x, 32 - y] as [number, number]),
    );
    assert.ok(reversed.displacementCosine < -0.999 && reversed.correlation < -0.999);
    const line: Trajectory = Array.from({ length: FRAMES }, (_, f) => [4 + f * 1.5, 16]);
    const zig: Trajectory = Array.from({ length: FRAMES }, (_, f) => [16, 16 + (f % 2 ? 3 : -3)]);
    assert.ok(Math.abs(trajectoryAgreement(line, zig).displacementCosine) < 0.01);
  });

  it("follows the true path of a MotionBench clip rendered by the world", () => {
    const ref = loadMotionBench().find((b) => b.category === "single-object")!;
    const got = objectTrajectory(ref.clip);
    const agreement = trajectoryAgreement(got, ref.truth.paths[0]!);
    assert.ok(agreement.correlation > 0.9, JSON.stringify(agreement));
  });
});
