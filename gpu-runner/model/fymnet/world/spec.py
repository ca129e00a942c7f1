"""The synthetic video world's clip descriptions: seeded, pure Python (no torch), so training draws
them in worker processes and only rendering (world/render.py) runs on the GPU.

Four kinds of clip, one per MotionBench category: one object on a path, 2–3 objects, a camera
move over a textured background, and an articulated stick figure. Captions name what appears and
at most a coarse motion word; the exact path never is, so a specific motion can only come from a
motion LoRA.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from fymnet.vocab import (BACKGROUND_COLOURS, CAMERA_MOVES, HUMAN_ACTIONS, OBJECT_COLOURS, OBJECT_MOTIONS,
                          SHAPES, SIZES, STYLES)

FRAMES = 16
SIZE = 32
CATEGORIES = ["single-object", "multiple-objects", "camera-motion", "human-motion"]

SIZE_PX = {"small": 3.5, None: 5.0, "big": 7.0}
UPRIGHT = 0.15  # radians: a shape that is not "spinning" starts within this of upright and turns at most this much more

# (colour, shape) pairs never rendered in training: evaluation prompts use them.
HELD_OUT = {("red", "star"), ("green", "triangle"), ("blue", "cross"), ("yellow", "diamond"),
            ("cyan", "square"), ("magenta", "circle")}


@dataclass
class Sprite:
    """One object or stick figure, with its per-frame path and angles."""

    colour: str
    shape: str  # one of SHAPES, or "person"
    size: str | None
    path: list[tuple[float, float]]  # per frame, world pixels
    angle: list[float]  # per frame, radians
    joints: list[list[float]] | None = None  # per frame, 8 joint angles (person only)


@dataclass
class ClipSpec:
    """Everything that decides one clip's pixels, and its caption."""

    category: str
    caption: str
    background: str
    style: str
    style_angle: float
    style_period: float
    noise_seed: int
    sprites: list[Sprite]
    camera: list[tuple[float, float, float]] = field(default_factory=list)  # per frame (dx, dy, zoom)


def _time_warp(rng: random.Random, frames: int) -> list[float]:
    """Monotonic 0..1 times with varying speed."""
    beta = rng.uniform(0.0, 0.12)
    phase = rng.uniform(0, 2 * math.pi)
    ts = [i / (frames - 1) for i in range(frames)]
    return [t + beta * (math.sin(2 * math.pi * t + phase) - math.sin(phase)) / (2 * math.pi) * 2 for t in ts]


def _path(rng: random.Random, motion: str, s: float, frames: int) -> tuple[list[tuple[float, float]], list[float]]:
    lo, hi = s + 1, SIZE - s - 1
    tw = _time_warp(rng, frames)
    # Objects stand upright (within 2 × UPRIGHT = 17°): free rotation would make a square a diamond and a cross an x,
    # shapes no caption could then tell apart. The draw stays full-range so every later draw, and
    # so every clip's path, is what it was when objects rotated freely (MotionBench keeps its clips).
    theta0 = (rng.uniform(0, 2 * math.pi) / math.pi - 1) * UPRIGHT
    if motion == "still":
        p = (rng.uniform(lo, hi), rng.uniform(lo, hi))
        return [p] * frames, [theta0] * frames
    if motion == "spinning":
        p0 = (rng.uniform(lo + 2, hi - 2), rng.uniform(lo + 2, hi - 2))
        drift = (rng.uniform(-2, 2), rng.uniform(-2, 2))
        w = rng.choice([-1, 1]) * rng.uniform(2.5, 6.0)
        return [(p0[0] + drift[0] * t, p0[1] + drift[1] * t) for t in tw], [theta0 + w * t for t in tw]
    if motion == "bouncing":
        span = hi - lo
        x0, y0 = rng.uniform(0, span), rng.uniform(0, span)
        speed = rng.uniform(1.0, 2.5) * frames
        ang = rng.uniform(0, 2 * math.pi)
        vx, vy = speed * math.cos(ang), speed * math.sin(ang)

        def fold(v: float) -> float:
            v = v % (2 * span)
            return lo + (v if v <= span else 2 * span - v)

        spin = rng.uniform(-1, 1) * UPRIGHT
        return [(fold(x0 + vx * t), fold(y0 + vy * t)) for t in tw], [theta0 + spin * t for t in tw]
    # "moving": a smooth random path, sums of two sinusoids per axis.
    c = ((lo + hi) / 2, (lo + hi) / 2)
    amp = (hi - lo) / 2
    terms = [[(rng.uniform(0.2, 0.6) * amp, rng.choice([0.5, 1, 1.5, 2]), rng.uniform(0, 2 * math.pi)) for _ in range(2)]
             for _ in range(2)]
    pts = []
    for t in tw:
        xy = []
        for axis in range(2):
            v = c[axis] + sum(a * math.sin(2 * math.pi * f * t + ph) for a, f, ph in terms[axis])
            xy.append(min(hi, max(lo, v)))
        pts.append((xy[0], xy[1]))
    spin = rng.uniform(-1, 1) * UPRIGHT
    return pts, [theta0 + spin * t for t in tw]


def action_joints(rng: random.Random, action: str, frames: int) -> tuple[list[list[float]], list[float], list[tuple[float, float]]]:
    """Joint angles (0 = hanging down) for [armL_up, armL_low, armR_up, armR_low, legL_up, legL_low, legR_up, legR_low],
    whole-body angle, and a hip offset per frame."""
    tw = _time_warp(rng, frames)
    cycles = rng.uniform(1.0, 2.5)
    ph = rng.uniform(0, 2 * math.pi)
    out, angle, offset = [], [], []
    rnd = [[(rng.uniform(0.3, 1.2), rng.uniform(0.5, 2.0), rng.uniform(0, 6.3)) for _ in range(8)]]
    walk_dir = rng.choice([-1, 1]) * rng.uniform(6, 12)
    for t in tw:
        w = 2 * math.pi * cycles * t + ph
        if action == "walking":
            s = math.sin(w)
            j = [0.6 * s, 0.3, -0.6 * s, 0.3, -0.5 * s, 0.4 * max(0.0, -s), 0.5 * s, 0.4 * max(0.0, s)]
            off = (walk_dir * (t - 0.5), -0.6 * abs(math.sin(w)))
            a = 0.0
        elif action == "waving":
            j = [0.2, 0.1, 2.6 + 0.5 * math.sin(2 * w), 0.6 * math.sin(2 * w), 0.1, 0.0, -0.1, 0.0]
            off, a = (0.0, 0.0), 0.0
        elif action == "jumping":
            up = abs(math.sin(w))
            j = [1.8 * up, 0.3, -1.8 * up, 0.3, 0.4 * (1 - up), 0.8 * (1 - up), -0.4 * (1 - up), 0.8 * (1 - up)]
            off, a = (0.0, -5.0 * up), 0.0
        elif action == "spinning":
            j = [1.4, 0.2, -1.4, 0.2, 0.3, 0.0, -0.3, 0.0]
            off, a = (0.0, 0.0), w
        else:  # dancing: random smooth joint motion
            j = [amp * math.sin(f * w + p) for amp, f, p in rnd[0]]
            off, a = (2.0 * math.sin(w / 2), -1.0 * abs(math.sin(w))), 0.15 * math.sin(w)
        out.append(j)
        angle.append(a)
        offset.append(off)
    return out, angle, offset


def _object_phrase(colour: str, shape: str, size: str | None) -> str:
    return f"a {size + ' ' if size else ''}{colour} {shape}"


def sample_spec(rng: random.Random, category: str | None = None, held_out: bool = False,
                frames: int = FRAMES) -> ClipSpec:
    """One random clip description. `held_out` draws the (colour, shape) pairs training never sees."""
    category = category or rng.choices(CATEGORIES, weights=[0.35, 0.25, 0.2, 0.2])[0]
    bg = rng.choice(BACKGROUND_COLOURS)
    style = rng.choice(STYLES if category != "camera-motion" else ["striped", "checkered", "noisy"])
    spec = ClipSpec(category, "", bg, style, rng.uniform(0, math.pi), rng.uniform(4, 9), rng.randrange(1 << 30), [])

    def colour_shape(taken: set[str]) -> tuple[str, str]:
        while True:
            if held_out:
                c, s = rng.choice(sorted(HELD_OUT))
            else:
                c, s = rng.choice(OBJECT_COLOURS), rng.choice(SHAPES)
                if (c, s) in HELD_OUT:
                    continue
            if c not in taken:
                return c, s

    phrases: list[str] = []
    taken: set[str] = set()
    motion_word = None
    if category == "human-motion":
        c = rng.choice(OBJECT_COLOURS)
        action = rng.choice(HUMAN_ACTIONS)
        joints, angle, offset = action_joints(rng, action, frames)
        base = (rng.uniform(12, 20), rng.uniform(17, 21))
        path = [(base[0] + o[0], base[1] + o[1]) for o in offset]
        spec.sprites.append(Sprite(c, "person", None, path, angle, joints))
        phrases.append(f"a {c} person")
        motion_word = action if rng.random() < 0.5 else None
    else:
        n = 1 if category in ("single-object", "camera-motion") else rng.choice([2, 2, 3])
        motion = rng.choice(OBJECT_MOTIONS) if category != "camera-motion" else "still"
        for _ in range(n):
            c, s = colour_shape(taken)
            taken.add(c)
            size = rng.choice(SIZES + [None]) if n == 1 else rng.choice(["small", None])
            path, angle = _path(rng, motion, SIZE_PX[size], frames)
            spec.sprites.append(Sprite(c, s, size, path, angle))
            phrases.append(_object_phrase(c, s, size))
        if category != "camera-motion" and rng.random() < 0.5:
            motion_word = motion
    if category == "camera-motion":
        move = rng.choice(CAMERA_MOVES)
        tw = _time_warp(rng, frames)
        d = rng.choice([-1, 1]) * rng.uniform(6, 14)
        if move == "panning":
            spec.camera = [(d * t, 0.0, 1.0) for t in tw]
        elif move == "tilting":
            spec.camera = [(0.0, d * t, 1.0) for t in tw]
        else:
            z1 = rng.choice([0.7, 1.4])
            spec.camera = [(0.0, 0.0, 1.0 + (z1 - 1.0) * t) for t in tw]
        cam_word = move if rng.random() < 0.5 else None
    else:
        spec.camera = [(0.0, 0.0, 1.0)] * frames
        cam_word = None
    style_word = "" if style == "plain" else style + " "
    caption = " and ".join(phrases)
    if motion_word:
        caption += f" {motion_word}"
    caption += f" on a {style_word}{bg} background"
    if cam_word:
        caption += f" with the camera {cam_word}"
    spec.caption = caption
    return spec


def strip_motion(caption: str) -> str:
    """The caption without its coarse motion word: what a user writes to describe appearance only."""
    words = caption.split()
    drop = set(OBJECT_MOTIONS) | set(HUMAN_ACTIONS)
    if "with" in words:
        words = words[:words.index("with")]
    return " ".join(w for w in words if w not in drop)
