"""MotionBench v4 reference cases: 12 per category (single object, multiple objects, camera motion,
complex human motion), half of them with motion families the pretraining never renders
(world/ood_motions.py, marked `ood: true`). Each case has its rendered clip, the caption it is tuned on
(appearance only: no caption of the world can name a path), three new prompts in the world's
grammar that change colour, shape, background and size (object count too, for multiple objects),
and its ground truth: object centre paths, camera path, joint angles, and point tracks (object
points, background points under the camera, the figure's joints) that the motion-fidelity metric
compares generated clips against.

Clips are raw uint8 RGB (F, H, W, 3), gzip-compressed; the JSON index holds the rest.

python -m fymnet.evaluation.motionbench --out ../artifacts/motionbench  (from gpu-runner/model)
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random

from fymnet.media import to_uint8
from fymnet.vocab import BACKGROUND_COLOURS, CAMERA_MOVES, HUMAN_ACTIONS, OBJECT_COLOURS, SHAPES, SIZES, STYLES
from fymnet.world.ood_motions import CAMERA_FAMILIES, HUMAN_FAMILIES, OBJECT_FAMILIES, camera_path, human_motion, object_path
from fymnet.world.render import render
from fymnet.world.spec import (CATEGORIES, FRAMES, HELD_OUT, SIZE, SIZE_PX, ClipSpec, Sprite, action_joints, sample_spec,
                               strip_motion)

PER_CATEGORY = 12
PROMPTS = 3
CAMERA_STYLES = ["striped", "checkered", "noisy"]  # camera motion needs a textured background to be seen
MULTI_OOD = [["spiral", "spiral"], ["corners-stops", "decaying-bounce"], ["drifting-loop", "accelerate-reverse"],
             ["zigzag-stop", "corners-stops"], ["orbit-pair", "orbit-pair"], ["decaying-bounce", "spiral", "corners-stops"]]


def caption_of(sprites: list[Sprite], style: str, background: str) -> str:
    """The world's caption for these sprites on this background, with no motion word."""
    phrases = [f"a {p.colour} person" if p.shape == "person" else f"a {p.size + ' ' if p.size else ''}{p.colour} {p.shape}" for p in sprites]
    return " and ".join(phrases) + f" on a {'' if style == 'plain' else style + ' '}{background} background"


def to_screen(spec: ClipSpec, f: int, x: float, y: float) -> tuple[float, float]:
    """World point -> pixel position in frame f (the inverse of world/render.py's camera mapping)."""
    cx, cy, z = spec.camera[f]
    return ((x - cx - SIZE / 2) * z + SIZE / 2, (y - cy - SIZE / 2) * z + SIZE / 2)


def joint_points(hip: tuple[float, float], angle: float, j: list[float], scale: float = 7.0) -> list[tuple[float, float]]:
    """The stick figure's hip, neck, head, elbows, hands, knees and feet (world/render.py `_person_alpha`'s geometry)."""
    ca, sa = math.cos(angle), math.sin(angle)
    rot = lambda x, y: (x * ca - y * sa, x * sa + y * ca)  # noqa: E731
    add = lambda p, d: (p[0] + d[0], p[1] + d[1])  # noqa: E731
    neck, head, shoulder = (add(hip, rot(0.0, -k * scale)) for k in (1.1, 1.55, 0.95))

    def limb(origin, up, low, length):
        elbow = add(origin, rot(length * math.sin(up), length * math.cos(up)))
        return [elbow, add(elbow, rot(length * math.sin(up + low), length * math.cos(up + low)))]

    return [hip, neck, head, *limb(shoulder, j[0], j[1], 0.55 * scale), *limb(shoulder, -j[2], -j[3], 0.55 * scale),
            *limb(hip, j[4], j[5], 0.65 * scale), *limb(hip, -j[6], -j[7], 0.65 * scale)]


def truth_tracks(spec: ClipSpec) -> list[list[tuple[float, float]]]:
    """Ground-truth point tracks in pixels: every sprite's centre and four points on it (or the
    figure's joints), and, where the camera moves, a 4×4 grid of background points."""
    tracks = []
    for p in spec.sprites:
        if p.shape == "person":
            per_frame = [joint_points(p.path[f], p.angle[f], p.joints[f]) for f in range(FRAMES)]
            tracks += [[to_screen(spec, f, *per_frame[f][k]) for f in range(FRAMES)] for k in range(len(per_frame[0]))]
            continue
        s = SIZE_PX[p.size]
        for u, v in [(0, 0), (0.5, 0), (-0.5, 0), (0, 0.5), (0, -0.5)]:
            track = []
            for f in range(FRAMES):
                ca, sa = math.cos(p.angle[f]), math.sin(p.angle[f])
                track.append(to_screen(spec, f, p.path[f][0] + s * (u * ca - v * sa), p.path[f][1] + s * (u * sa + v * ca)))
            tracks.append(track)
    if any(c != spec.camera[0] for c in spec.camera):
        cx, cy, z = spec.camera[0]
        for gy in range(4):
            for gx in range(4):
                sx, sy = 4 + 8 * gx, 4 + 8 * gy
                wx, wy = (sx - SIZE / 2) / z + SIZE / 2 + cx, (sy - SIZE / 2) / z + SIZE / 2 + cy
                tracks.append([to_screen(spec, f, wx, wy) for f in range(FRAMES)])
    return [[(round(x, 3), round(y, 3)) for x, y in t] for t in tracks]


def new_prompt(rng: random.Random, spec: ClipSpec, category: str, change_count: bool) -> str:
    """Another appearance in the world's grammar: new colours, shapes, background and size."""
    ref_colours = {p.colour for p in spec.sprites}
    ref_shapes = {p.shape for p in spec.sprites}
    bg = rng.choice([b for b in BACKGROUND_COLOURS if b != spec.background])
    style = rng.choice(CAMERA_STYLES if category == "camera-motion" else STYLES)
    if category == "human-motion":
        return caption_of([Sprite(rng.choice([c for c in OBJECT_COLOURS if c not in ref_colours]), "person", None, [], [])], style, bg)
    n = len(spec.sprites)
    if change_count:
        n = 3 if n == 2 else 2
    colours = rng.sample([c for c in OBJECT_COLOURS if c not in ref_colours], n)
    sprites = []
    for c in colours:
        shape = rng.choice([s for s in SHAPES if s not in ref_shapes and (c, s) not in HELD_OUT])
        size = rng.choice(SIZES + [None]) if n == 1 else rng.choice(["small", None])
        sprites.append(Sprite(c, shape, size, [], []))
    return caption_of(sprites, style, bg)


def ood_spec(rng: random.Random, category: str, k: int) -> tuple[ClipSpec, str]:
    """An appearance drawn as the world draws it, moved by the k-th new motion family of the category."""
    spec = sample_spec(rng, category)
    if category == "single-object":
        family = OBJECT_FAMILIES[k]
        p = spec.sprites[0]
        p.path, p.angle = object_path(rng, family, SIZE_PX[p.size]), [p.angle[0]] * FRAMES
    elif category == "multiple-objects":
        families = MULTI_OOD[k]
        family = "+".join(dict.fromkeys(families))
        while len(spec.sprites) != len(families):  # the case's object count is the family set's
            spec = sample_spec(rng, category)
        if families[0] == "orbit-pair":
            r, a0, w = rng.uniform(6, 8), rng.uniform(0, 2 * math.pi), rng.choice([-1, 1]) * rng.uniform(1.0, 1.5)
            for i, p in enumerate(spec.sprites):
                p.path = [(SIZE / 2 + r * math.cos(a0 + i * math.pi + 2 * math.pi * w * f / (FRAMES - 1)),
                           SIZE / 2 + r * math.sin(a0 + i * math.pi + 2 * math.pi * w * f / (FRAMES - 1))) for f in range(FRAMES)]
                p.angle = [p.angle[0]] * FRAMES
        else:
            for p, fam in zip(spec.sprites, families):
                p.path, p.angle = object_path(rng, fam, SIZE_PX[p.size]), [p.angle[0]] * FRAMES
    elif category == "camera-motion":
        family = CAMERA_FAMILIES[k]
        spec.camera = camera_path(rng, family)
    else:
        family = HUMAN_FAMILIES[k]
        p = spec.sprites[0]
        joints, angle, offset = human_motion(rng, family)
        base = (rng.uniform(13, 19), rng.uniform(16, 19))
        p.joints, p.angle, p.path = joints, angle, [(base[0] + o[0], base[1] + o[1]) for o in offset]
    spec.caption = caption_of(spec.sprites, spec.style, spec.background)
    return spec, family


def id_spec(rng: random.Random, category: str, k: int) -> tuple[ClipSpec, str]:
    """A clip of the pretraining's own motion families (the k-th camera move or figure action, in
    turn) that travels far enough to be worth transferring."""
    while True:
        spec = sample_spec(rng, category)
        first = spec.sprites[0]
        if category in ("single-object", "multiple-objects"):
            if max(max(c) - min(c) for c in zip(*first.path)) < 8:
                continue
            family = "world-paths"
        elif category == "camera-motion":
            family = CAMERA_MOVES[k % len(CAMERA_MOVES)]
            dx, dy, z = spec.camera[-1]
            if family != ("zooming" if z != 1.0 else "panning" if dx != 0.0 else "tilting"):
                continue
        else:
            family = HUMAN_ACTIONS[k % len(HUMAN_ACTIONS)]
            first.joints, first.angle, offset = action_joints(rng, family, FRAMES)
            base = (rng.uniform(12, 20), rng.uniform(17, 21))
            first.path = [(base[0] + o[0], base[1] + o[1]) for o in offset]
        spec.caption = strip_motion(spec.caption)
        return spec, family


def cases(seed: int = 2026):
    """Every case in index order: (its index entry, its clip as (F, H, W, 3) uint8). One random stream
    draws them all, so a case depends on every case before it."""
    rng = random.Random(seed)
    for cat in CATEGORIES:
        for i in range(PER_CATEGORY):
            ood = i % 2 == 1
            spec, family = ood_spec(rng, cat, i // 2) if ood else id_spec(rng, cat, i // 2)
            clip = to_uint8(render([spec]))[0]
            name = f"{cat}-{i + 1:02d}"
            prompts = [new_prompt(rng, spec, cat, change_count=(cat == "multiple-objects" and k == PROMPTS - 1)) for k in range(PROMPTS)]
            truth = {"paths": [[(round(x, 3), round(y, 3)) for x, y in p.path] for p in spec.sprites],
                     "camera": [tuple(round(v, 4) for v in c) for c in spec.camera], "tracks": truth_tracks(spec)}
            if spec.sprites[0].joints is not None:
                truth["joints"] = [[round(a, 4) for a in j] for j in spec.sprites[0].joints]
            yield ({"name": name, "category": cat, "ood": ood, "family": family, "file": f"{name}.rgb.gz",
                    "shape": list(clip.shape), "caption": spec.caption, "new_prompts": prompts, "truth": truth}, clip)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m fymnet.evaluation.motionbench")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):
        if f.endswith((".rgb", ".rgb.gz")):
            os.remove(os.path.join(args.out, f))
    index = []
    for entry, clip in cases(args.seed):
        with open(os.path.join(args.out, entry["file"]), "wb") as fh:
            fh.write(gzip.compress(clip.tobytes(), mtime=0))
        index.append(entry)
    with open(os.path.join(args.out, "index.json"), "w") as fh:
        json.dump({"format": "gzip of raw uint8 RGB, frames x height x width x 3", "version": 4, "seed": args.seed,
                   "clips": index}, fh, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main()
