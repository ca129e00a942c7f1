"""Motion families the pretraining world never renders, for MotionBench's out-of-distribution cases.

Pretraining paths (world/spec.py) are smooth sums of sinusoids, straight bounces off the walls, spins and
still objects; camera moves are one monotonic pan, tilt or zoom; figures loop one action. Here:
corners with stops, drifting loops, spirals, accelerate-and-reverse, decaying gravity bounces and
zigzags; camera orbits, zoom while panning, stop-and-go and reversing pans, L-shaped moves; figures
that chain actions, jump with new timing, stop mid-walk, circle their arms, squat and kick.
Each generator takes a seeded `random.Random` and returns per-frame values for world/spec.py's `Sprite`
and `ClipSpec` fields, so clips render with the same renderer and the same appearance vocabulary.
"""
from __future__ import annotations

import math
import random

from fymnet.world.spec import FRAMES, SIZE

Path = list[tuple[float, float]]

OBJECT_FAMILIES = ["corners-stops", "drifting-loop", "spiral", "accelerate-reverse", "decaying-bounce", "zigzag-stop"]
CAMERA_FAMILIES = ["orbit", "zoom-while-panning", "stop-and-go-pan", "pan-reverse", "pan-then-tilt", "zigzag-pan"]
HUMAN_FAMILIES = ["wave-then-jump", "double-jump-pause", "walk-stop-walk", "arm-circles", "squat", "kick"]


def _polyline(points: list[tuple[float, float]], holds: list[float], frames: int, ease: bool = True) -> Path:
    """Moves from point to point (each leg eased unless `ease` is off), holding still for `holds[i]`
    (a duration relative to one leg) on reaching point i + 1."""
    pieces: list[tuple[int, bool, float]] = []  # (leg, moving, duration)
    for i in range(len(points) - 1):
        pieces.append((i, True, 1.0))
        if holds[i] > 0:
            pieces.append((i, False, holds[i]))
    total = sum(d for _, _, d in pieces)
    out: Path = []
    for f in range(frames):
        t, acc = f / (frames - 1) * total, 0.0
        for leg, moving, dur in pieces:
            if t <= acc + dur + 1e-9 or (leg, moving, dur) == pieces[-1]:
                p = min(1.0, (t - acc) / dur) if moving else 1.0
                break
            acc += dur
        q = 0.5 - 0.5 * math.cos(math.pi * p) if ease else p
        a, b = points[leg], points[leg + 1]
        out.append((a[0] + (b[0] - a[0]) * q, a[1] + (b[1] - a[1]) * q))
    return out


def _spread_points(rng: random.Random, n: int, lo: float, hi: float, min_gap: float) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        p = (rng.uniform(lo, hi), rng.uniform(lo, hi))
        if all(math.dist(p, q) >= min_gap for q in pts[-1:]):
            pts.append(p)
    return pts


def object_path(rng: random.Random, family: str, s: float, frames: int = FRAMES) -> Path:
    """A centre path inside the frame for an object of half-size `s` (world pixels)."""
    lo, hi = s + 1, SIZE - s - 1
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    clamp = lambda p: (min(hi, max(lo, p[0])), min(hi, max(lo, p[1])))  # noqa: E731
    if family == "corners-stops":
        pts = _spread_points(rng, 4, lo, hi, 0.8 * half)
        return _polyline(pts, [0.6, 0.6, 0.0], frames)
    if family == "drifting-loop":
        r = rng.uniform(0.3, 0.45) * half
        d = rng.choice([-1, 1])
        x0 = mid - d * (half - r)
        y0 = rng.uniform(lo + r, hi - r)
        loops = rng.choice([1.0, 1.5])
        vx = d * 2 * (half - r)
        return [clamp((x0 + vx * t + r * math.sin(2 * math.pi * loops * t), y0 - r * math.cos(2 * math.pi * loops * t) + r))
                for t in (i / (frames - 1) for i in range(frames))]
    if family == "spiral":
        turns = rng.uniform(1.2, 1.8) * rng.choice([-1, 1])
        a0 = rng.uniform(0, 2 * math.pi)
        inward = rng.random() < 0.5
        pts = []
        for i in range(frames):
            t = i / (frames - 1)
            r = half * (1 - 0.85 * (t if inward else 1 - t))
            a = a0 + 2 * math.pi * turns * t
            pts.append(clamp((mid + r * math.cos(a), mid + r * math.sin(a))))
        return pts
    if family == "accelerate-reverse":
        ang = rng.uniform(0, 2 * math.pi)
        ux, uy = math.cos(ang), math.sin(ang)
        start = (mid - ux * 0.8 * half, mid - uy * 0.8 * half)
        reach = 1.6 * half
        turn = rng.uniform(0.6, 0.75)
        pts = []
        for i in range(frames):
            t = i / (frames - 1)
            k = (t / turn) ** 2 if t <= turn else 1 - 0.7 * ((t - turn) / (1 - turn))
            pts.append(clamp((start[0] + ux * reach * k, start[1] + uy * reach * k)))
        return pts
    if family == "decaying-bounce":
        d = rng.choice([-1, 1])
        x0 = mid - d * 0.8 * half
        floor, top = hi, lo + rng.uniform(0, 0.3) * half
        h0, e = floor - top, rng.uniform(0.45, 0.6)
        # A dropped ball: parabolic arcs, each bounce e² as high and e as long as the one before.
        durations = [math.sqrt(h0)] + [2 * math.sqrt(h0) * e ** k for k in range(1, 5)]
        total = sum(durations)
        pts = []
        for i in range(frames):
            tt = i / (frames - 1) * total
            acc = 0.0
            for k, dur in enumerate(durations):
                if tt <= acc + dur or k == len(durations) - 1:
                    u = min(1.0, (tt - acc) / dur)
                    height = h0 * (1 - u * u) if k == 0 else h0 * e ** (2 * k) * 4 * u * (1 - u)
                    break
                acc += dur
            pts.append(clamp((x0 + d * 1.6 * half * i / (frames - 1), floor - height)))
        return pts
    if family == "zigzag-stop":
        ang = rng.uniform(0, 2 * math.pi)
        ux, uy = math.cos(ang), math.sin(ang)
        px, py = -uy, ux
        pts = [clamp((mid - ux * 0.8 * half + px * (0.6 * half) * (1 if k % 2 else -1) + ux * 1.6 * half * k / 3,
                      mid - uy * 0.8 * half + py * (0.6 * half) * (1 if k % 2 else -1) + uy * 1.6 * half * k / 3)) for k in range(4)]
        path = _polyline(pts, [0.0, 0.0, 0.0], frames - 4, ease=False)
        return path + [path[-1]] * 4
    raise ValueError(f"unknown object family {family}")


def camera_path(rng: random.Random, family: str, frames: int = FRAMES) -> list[tuple[float, float, float]]:
    """Per frame (dx, dy, zoom) as world/spec.py's ClipSpec.camera."""
    ts = [i / (frames - 1) for i in range(frames)]
    d = rng.choice([-1, 1])
    if family == "orbit":
        r = rng.uniform(4, 6)
        a0 = rng.uniform(0, 2 * math.pi)
        return [(r * math.cos(a0 + d * 2 * math.pi * t) - r * math.cos(a0), r * math.sin(a0 + d * 2 * math.pi * t) - r * math.sin(a0), 1.0) for t in ts]
    if family == "zoom-while-panning":
        dist, z1 = rng.uniform(8, 12), rng.choice([0.75, 1.35])
        vertical = rng.random() < 0.5
        return [((0.0, d * dist * t) if vertical else (d * dist * t, 0.0)) + (1.0 + (z1 - 1.0) * t,) for t in ts]
    if family == "stop-and-go-pan":
        dist = rng.uniform(10, 14)
        path = _polyline([(0.0, 0.0), (d * dist / 2, 0.0), (d * dist, 0.0)], [1.0, 0.0], frames)
        return [(x, y, 1.0) for x, y in path]
    if family == "pan-reverse":
        dist, turn = rng.uniform(10, 14), rng.uniform(0.55, 0.7)
        return [(d * dist * ((t / turn) ** 2 if t <= turn else 1 - 0.8 * (t - turn) / (1 - turn)), 0.0, 1.0) for t in ts]
    if family == "pan-then-tilt":
        a, b = rng.uniform(7, 10), rng.uniform(7, 10)
        path = _polyline([(0.0, 0.0), (d * a, 0.0), (d * a, rng.choice([-1, 1]) * b)], [0.0, 0.0], frames)
        return [(x, y, 1.0) for x, y in path]
    if family == "zigzag-pan":
        step, rise = rng.uniform(4, 5), rng.uniform(3, 4)
        pts = [(d * step * k, rise * (1 if k % 2 else 0)) for k in range(4)]
        return [(x, y, 1.0) for x, y in _polyline(pts, [0.0, 0.0, 0.0], frames, ease=False)]
    raise ValueError(f"unknown camera family {family}")


def human_motion(rng: random.Random, family: str, frames: int = FRAMES) -> tuple[list[list[float]], list[float], list[tuple[float, float]]]:
    """Joint angles (world/spec.py's 8-angle layout), whole-body angle and hip offset per frame."""
    ts = [i / (frames - 1) for i in range(frames)]
    rest = [0.2, 0.1, -0.2, 0.1, 0.15, 0.0, -0.15, 0.0]
    joints, angle, offset = [], [], []
    ph = rng.uniform(0, 2 * math.pi)

    def jump(u: float) -> tuple[list[float], tuple[float, float]]:
        up = math.sin(math.pi * min(1.0, max(0.0, u)))
        return [1.8 * up, 0.3, -1.8 * up, 0.3, 0.4 * (1 - up), 0.8 * (1 - up), -0.4 * (1 - up), 0.8 * (1 - up)], (0.0, -5.0 * up)

    walk_dir = rng.choice([-1, 1]) * rng.uniform(7, 10)
    for t in ts:
        off, a = (0.0, 0.0), 0.0
        if family == "wave-then-jump":
            if t < 0.5:
                w = 2 * math.pi * 2 * t + ph
                j = [0.2, 0.1, 2.6 + 0.5 * math.sin(2 * w), 0.6 * math.sin(2 * w), 0.1, 0.0, -0.1, 0.0]
            else:
                j, off = jump((t - 0.5) / 0.5)
        elif family == "double-jump-pause":
            j, off = jump(t / 0.3) if t < 0.3 else jump((t - 0.3) / 0.3) if t < 0.6 else (rest, (0.0, 0.0))
        elif family == "walk-stop-walk":
            moving = t < 0.35 or t > 0.65
            u = t if t < 0.35 else 0.35 if t <= 0.65 else t - 0.3
            s = math.sin(2 * math.pi * 3 * u) if moving else 0.0
            j = [0.6 * s, 0.3, -0.6 * s, 0.3, -0.5 * s, 0.4 * max(0.0, -s), 0.5 * s, 0.4 * max(0.0, s)]
            off = (walk_dir * (u / 0.7 - 0.5), -0.6 * abs(s))
        elif family == "arm-circles":
            w = 2 * math.pi * 1.5 * t + ph
            j = [1.6 + 1.4 * math.sin(w), 0.1, -1.6 - 1.4 * math.sin(w), 0.1, 0.1, 0.0, -0.1, 0.0]
        elif family == "squat":
            down = math.sin(math.pi * min(1.0, t / 0.7)) if t < 0.7 else 0.0
            j = [0.9 * down, 0.4 * down, -0.9 * down, 0.4 * down, -1.2 * down, 2.0 * down, 1.2 * down, -2.0 * down]
            off = (0.0, 4.0 * down)
        elif family == "kick":
            k = max(0.0, math.sin(2 * math.pi * 2 * t + ph))
            j = [0.5, 0.2, -0.5, 0.2, -1.6 * k, 0.3 * k, -0.1, 0.0]
            a = -0.1 * k
        else:
            raise ValueError(f"unknown human family {family}")
        joints.append(list(j))
        angle.append(a)
        offset.append(off)
    return joints, angle, offset
