import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../core/rng.ts";
import { classifyAppearance, leakage, maskConsistency, parsePrompt, textAlignment } from "./appearance.ts";
import { BACKGROUND_COLOURS, FRAMES, OBJECT_COLOURS, paintClip, SHAPES, stillPath, STYLES, type Joints, type PaintSprite, type Shape } from "./paint.ts";

const rng = new Rng(11);
const line = (x0: number, y0: number, vx: number, vy: number): [number, number][] => Array.from({ length: FRAMES }, (_, f) => [x0 + vx * f, y0 + vy * f]);
const upright = () => {
  // The world's upright draw: within ±0.15 rad, turning by at most ±0.15 more over the clip.
  const th = (rng.next() * 2 - 1) * 0.15;
  const w = (rng.next() * 2 - 1) * 0.15;
  return Array.from({ length: FRAMES }, (_, f) => th + (w * f) / (FRAMES - 1));
};
const randomTexture = () => ({ styleAngle: rng.next() * Math.PI, stylePeriod: 4 + rng.next() * 5, noiseSeed: rng.int(1 << 30) });

describe("appearance", () => {
  it("classifies shape (≥ 95%), colour and background (100%) over 6 shapes × 3 sizes × 5 background styles", () => {
    let shapes = 0;
    let colours = 0;
    let backgrounds = 0;
    let n = 0;
    const misses: string[] = [];
    for (const style of STYLES) {
      for (const shape of SHAPES) {
        for (const size of ["small", null, "big"] as const) {
          const background = BACKGROUND_COLOURS[n % 6]!;
          const colour = OBJECT_COLOURS[(n * 3) % 8]!;
          const path = line(9 + rng.next() * 14, 9 + rng.next() * 14, rng.next() - 0.5, rng.next() - 0.5);
          const seen = classifyAppearance(paintClip({ background, style, ...randomTexture(), sprites: [{ colour, shape, size, path, angle: upright() }] }));
          n++;
          if (seen.objects[0]?.shape === shape) shapes++;
          else misses.push(`${size ?? "medium"} ${shape} on ${style} → ${seen.objects[0]?.shape}`);
          if (seen.objects[0]?.colour === colour) colours++;
          if (seen.background === background) backgrounds++;
        }
      }
    }
    assert.ok(shapes / n >= 0.95, `shape ${shapes}/${n}: ${misses.join("; ")}`);
    assert.equal(colours, n, "colour");
    assert.equal(backgrounds, n, "background");
  });

  it("tells every palette colour on every background colour, and black from gray at the darkest and brightest textures", () => {
    for (const colour of OBJECT_COLOURS) {
      for (const background of BACKGROUND_COLOURS) {
        const style = STYLES[rng.int(STYLES.length)]!;
        const seen = classifyAppearance(paintClip({ background, style, ...randomTexture(), sprites: [{ colour, shape: "circle", path: stillPath(16, 16) }] }));
        assert.equal(seen.objects[0]?.colour, colour, `${colour} on ${style} ${background}`);
        assert.equal(seen.background, background, `${style} ${background}`);
      }
    }
    // A gradient pointing off the frame is flat at its darkest shade (0.35): gray there must not read as black.
    assert.equal(classifyAppearance(paintClip({ background: "gray", style: "gradient", styleAngle: Math.PI, sprites: [] })).background, "gray");
    assert.equal(classifyAppearance(paintClip({ background: "black", style: "plain", sprites: [] })).background, "black");
  });

  it("recognises a stick figure as a person, whatever it does", () => {
    for (let i = 0; i < 6; i++) {
      const joints: Joints[] = Array.from(
        { length: FRAMES },
        (_, f) => Array.from({ length: 8 }, (_, k) => Math.sin(f * 0.4 + k + i) * (0.3 + (k % 3) * 0.5)) as Joints,
      );
      const clip = paintClip({
        background: BACKGROUND_COLOURS[i]!,
        style: STYLES[i % 5]!,
        sprites: [{ colour: OBJECT_COLOURS[i]!, shape: "person", path: line(12 + i, 18, 0.3, 0), angle: Array(FRAMES).fill(i === 3 ? 0.3 : 0), joints }],
      });
      const seen = classifyAppearance(clip);
      assert.equal(seen.count, 1);
      assert.equal(seen.objects[0]?.shape, "person", `figure ${i}: ${seen.objects[0]?.shape} (${seen.objects[0]?.shapeScore.toFixed(2)})`);
    }
  });

  it("counts 1 to 3 objects, also when two of them cross", () => {
    for (const k of [1, 2, 3]) {
      for (let trial = 0; trial < 3; trial++) {
        const sprites: PaintSprite[] = Array.from({ length: k }, (_, i) => ({
          colour: OBJECT_COLOURS[(i * 3 + trial) % 8]!,
          shape: SHAPES[(i + trial) % 6]!,
          size: "small" as const,
          path: line(5 + 11 * i, 6 + 6 * trial, 0, 1),
        }));
        // Trial 2: the first object sweeps across the others' row for a couple of frames.
        if (trial === 2) sprites[0]!.path = line(5, 18, 1.4, 0);
        assert.equal(classifyAppearance(paintClip({ background: "teal", style: "striped", sprites })).count, k, `${k} objects, trial ${trial}`);
      }
    }
  });

  it("parses the world's captions", () => {
    assert.deepEqual(parsePrompt("a big red star and a small blue circle moving on a striped navy background with the camera panning"), {
      objects: [
        { colour: "red", shape: "star", size: "big" },
        { colour: "blue", shape: "circle", size: "small" },
      ],
      style: "striped",
      background: "navy",
      motion: "moving",
      camera: "panning",
    });
    assert.deepEqual(parsePrompt("a orange person on a gray background").objects, [{ colour: "orange", shape: "person", size: null }]);
    assert.throws(() => parsePrompt("a red star"));
  });

  it("scores text alignment per attribute, and leakage of the reference's look", () => {
    const sprites: PaintSprite[] = [
      { colour: "red", shape: "star", size: "big", path: line(10, 10, 0.5, 0.3), angle: upright() },
      { colour: "blue", shape: "circle", size: "small", path: line(24, 24, -0.2, -0.1) },
    ];
    const clip = paintClip({ background: "navy", style: "striped", sprites });
    const seen = classifyAppearance(clip);
    assert.deepEqual(textAlignment(clip, "a big red star and a small blue circle on a striped navy background", seen), {
      colour: true,
      shape: true,
      background: true,
      count: true,
      mean: 1,
    });
    assert.deepEqual(textAlignment(clip, "a red star and a green circle on a teal background", seen), {
      colour: false,
      shape: true,
      background: false,
      count: true,
      mean: 0.5,
    });
    assert.deepEqual(textAlignment(clip, "a red square on a navy background", seen), { colour: true, shape: false, background: true, count: false, mean: 0.5 });
    // The prompt asked for a red star where the reference had a white cross and the blue circle: blue leaked.
    assert.deepEqual(leakage(clip, "a red star on a navy background", "a blue circle on a gray background", seen), { colour: true, shape: true, any: true });
    assert.deepEqual(leakage(clip, "a red star and a blue circle on a navy background", "a blue circle on a gray background", seen), {
      colour: false,
      shape: false,
      any: false,
    });
    assert.deepEqual(leakage(clip, "a red star and a small white circle on a navy background", "a blue cross on a gray background", seen), {
      colour: true,
      shape: false,
      any: true,
    });
  });

  it("measures temporal consistency: a rigid object near 1, a morphing or flickering one clearly lower", () => {
    const moving = maskConsistency(
      paintClip({ background: "gray", style: "noisy", sprites: [{ colour: "yellow", shape: "star", path: line(8, 10, 1.1, 0.7), angle: upright() }] }),
    );
    assert.ok(moving > 0.75, `rigid ${moving.toFixed(3)}`);
    // A clip whose object changes shape every frame (what a temporally unstable generation does).
    const morph = paintClip({ background: "gray", style: "plain", sprites: [] });
    const frames = SHAPES.map((shape: Shape) =>
      paintClip({ background: "gray", style: "plain", sprites: [{ colour: "yellow", shape, path: stillPath(16, 16) }] }),
    );
    const per = 3 * 32 * 32;
    for (let f = 0; f < FRAMES; f++) morph.data.set(frames[f % SHAPES.length]!.data.subarray(0, per), f * per);
    const unstable = maskConsistency(morph);
    assert.ok(unstable < moving - 0.15, `morphing ${unstable.toFixed(3)} vs rigid ${moving.toFixed(3)}`);
  });
});
