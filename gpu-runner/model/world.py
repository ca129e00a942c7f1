"""The synthetic video world: seeded clips with captions, rendered on the GPU with torch.

Four kinds of clip, one per MotionBench category: one object on a path, 2–3 objects, a camera
move over a textured background, and an articulated stick figure. Captions name what appears and
at most a coarse motion word; the exact path never is, so a specific motion can only come from a
motion LoRA.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from vocab import (BACKGROUND_COLOURS, CAMERA_MOVES, HUMAN_ACTIONS, OBJECT_COLOURS, OBJECT_MOTIONS,
                   SHAPES, SIZES, STYLES)

FRAMES = 16
SIZE = 32
CATEGORIES = ["single-object", "multiple-objects", "camera-motion", "human-motion"]

RGB = {
    "red": (0.9, 0.1, 0.1), "green": (0.1, 0.8, 0.2), "blue": (0.2, 0.35, 1.0), "yellow": (0.95, 0.9, 0.1),
    "cyan": (0.1, 0.9, 0.9), "magenta": (0.9, 0.15, 0.85), "white": (1.0, 1.0, 1.0), "orange": (1.0, 0.55, 0.05),
    "black": (0.0, 0.0, 0.0), "gray": (0.35, 0.35, 0.35), "navy": (0.05, 0.05, 0.35), "maroon": (0.35, 0.05, 0.05),
    "olive": (0.3, 0.3, 0.05), "teal": (0.05, 0.3, 0.3),
}
SIZE_PX = {"small": 3.5, None: 5.0, "big": 7.0}
UPRIGHT = 0.15  # radians: a shape that is not "spinning" starts within this of upright and turns at most this much more

# (colour, shape) pairs never rendered in training: evaluation prompts use them.
HELD_OUT = {("red", "star"), ("green", "triangle"), ("blue", "cross"), ("yellow", "diamond"),
            ("cyan", "square"), ("magenta", "circle")}


@dataclass
class Sprite:
    colour: str
    shape: str  # one of SHAPES, or "person"
    size: str | None
    path: list[tuple[float, float]]  # per frame, world pixels
    angle: list[float]  # per frame, radians
    joints: list[list[float]] | None = None  # per frame, 8 joint angles (person only)


@dataclass
class ClipSpec:
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


def _joints(rng: random.Random, action: str, frames: int) -> tuple[list[list[float]], list[float], list[tuple[float, float]]]:
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
        joints, angle, offset = _joints(rng, action, frames)
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


# ---------------------------------------------------------------------------------------------
# Rendering

def _shape_distance(shape_id: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Normalised distance: < 1 inside. shape_id broadcasts against u, v."""
    r = torch.sqrt(u * u + v * v + 1e-8)
    circle = r
    square = torch.maximum(u.abs(), v.abs()) / 0.8
    tri = None
    for k in range(3):
        a = math.pi / 2 + 2 * math.pi * k / 3
        e = (u * math.cos(a) + v * math.sin(a)) / 0.5
        tri = e if tri is None else torch.maximum(tri, e)
    phi = torch.atan2(v, u)
    star = r / (0.5 + 0.5 * (0.5 + 0.5 * torch.cos(5 * phi)) ** 2)
    diamond = (u.abs() + v.abs()) / 1.1
    cross = torch.minimum(torch.maximum(u.abs() / 0.34, v.abs()), torch.maximum(u.abs(), v.abs() / 0.34))
    stack = torch.stack([circle, square, tri, star, diamond, cross], 0)
    idx = shape_id.long().clamp(0, 5).expand_as(u).unsqueeze(0)
    return torch.gather(stack, 0, idx).squeeze(0)


def _segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy + 1e-8)).clamp(0, 1)
    ex, ey = px - (ax + t * dx), py - (ay + t * dy)
    return torch.sqrt(ex * ex + ey * ey + 1e-8)


def _person_alpha(px, py, hip, angle, joints, scale):
    """Soft mask of a stick figure. px, py: (N,F,H,W); hip: (N,F,2); angle: (N,F); joints: (N,F,8)."""
    def rot(x, y):
        ca, sa = torch.cos(angle), torch.sin(angle)
        return x * ca - y * sa, x * sa + y * ca

    L = scale  # segment length unit
    hx, hy = hip[..., 0], hip[..., 1]
    nx_, ny_ = rot(torch.zeros_like(hx), -1.1 * L)
    neck = (hx + nx_, hy + ny_)
    segments = [((hx, hy), neck)]
    hx_, hy_ = rot(torch.zeros_like(hx), -1.55 * L)
    head = (hx + hx_, hy + hy_)

    def limb(origin, a_up, a_low, length):
        ux, uy = rot(length * torch.sin(a_up), length * torch.cos(a_up))
        elbow = (origin[0] + ux, origin[1] + uy)
        lx, ly = rot(length * torch.sin(a_up + a_low), length * torch.cos(a_up + a_low))
        return [(origin, elbow), (elbow, (elbow[0] + lx, elbow[1] + ly))]

    sx_, sy_ = rot(torch.zeros_like(hx), -0.95 * L)
    shoulder = (hx + sx_, hy + sy_)
    segments += limb(shoulder, joints[..., 0], joints[..., 1], 0.55 * L)
    segments += limb(shoulder, -joints[..., 2], -joints[..., 3], 0.55 * L)
    segments += limb((hx, hy), joints[..., 4], joints[..., 5], 0.65 * L)
    segments += limb((hx, hy), -joints[..., 6], -joints[..., 7], 0.65 * L)
    e = lambda t: t[..., None, None]  # noqa: E731
    dist = None
    for (a, b) in segments:
        d = _segment_distance(px, py, e(a[0]), e(a[1]), e(b[0]), e(b[1]))
        dist = d if dist is None else torch.minimum(dist, d)
    head_d = torch.sqrt((px - e(head[0])) ** 2 + (py - e(head[1])) ** 2) - 0.32 * L
    alpha_body = torch.sigmoid((0.9 - dist) * 3.0)
    alpha_head = torch.sigmoid((0.0 - head_d) * 3.0)
    return torch.maximum(alpha_body, alpha_head)


def render(specs: list[ClipSpec], device: torch.device | str = "cpu", frames: int = FRAMES) -> torch.Tensor:
    """Clips (N, F, 3, H, W) in [-1, 1]."""
    n = len(specs)
    dev = torch.device(device)
    ys, xs = torch.meshgrid(torch.arange(SIZE, device=dev) + 0.5, torch.arange(SIZE, device=dev) + 0.5, indexing="ij")
    cam = torch.tensor([s.camera for s in specs], device=dev, dtype=torch.float32)  # (N,F,3)
    zoom = cam[..., 2][..., None, None]
    wx = (xs - SIZE / 2) / zoom + SIZE / 2 + cam[..., 0][..., None, None]  # (N,F,H,W)
    wy = (ys - SIZE / 2) / zoom + SIZE / 2 + cam[..., 1][..., None, None]

    # Background in world coordinates, so camera moves show as texture motion.
    base = torch.tensor([RGB[s.background] for s in specs], device=dev)[:, None, :, None, None]  # (N,1,3,1,1)
    style = torch.tensor([STYLES.index(s.style) for s in specs], device=dev)[:, None, None, None]
    ang = torch.tensor([s.style_angle for s in specs], device=dev)[:, None, None, None]
    per = torch.tensor([s.style_period for s in specs], device=dev)[:, None, None, None]
    along = wx * torch.cos(ang) + wy * torch.sin(ang)
    gradient = 0.35 + 0.65 * (along / (SIZE * 1.5)).clamp(0, 1)
    stripes = torch.where(torch.sin(2 * math.pi * along / per) > 0, 1.0, 0.35)
    checks = torch.where((torch.floor(wx / per) + torch.floor(wy / per)) % 2 == 0, 1.0, 0.35)
    gen = torch.Generator(device="cpu")
    noise_tex = []
    for s in specs:
        gen.manual_seed(s.noise_seed)
        noise_tex.append(torch.rand(1, 12, 12, generator=gen))
    noise_tex = torch.stack(noise_tex).to(dev)  # (N,1,12,12)
    grid = torch.stack([(wx / 48.0) * 2 - 1 + 0.33, (wy / 48.0) * 2 - 1 + 0.33], -1)  # world spans 48 px
    noise = torch.nn.functional.grid_sample(noise_tex, grid.reshape(n, frames * SIZE, SIZE, 2), align_corners=False,
                                            mode="bilinear", padding_mode="reflection").reshape(n, frames, SIZE, SIZE)
    noisy = 0.3 + 0.9 * noise
    shade = torch.stack([torch.ones_like(along), gradient, stripes, checks, noisy], 0)
    shade = torch.gather(shade, 0, style.expand_as(along).unsqueeze(0)).squeeze(0)  # (N,F,H,W)
    # Dark backgrounds get a lift so texture is visible on black too.
    img = (base * 0.85 + 0.12) * shade[:, :, None]  # (N,F,3,H,W)

    max_sprites = max(len(s.sprites) for s in specs)
    for k in range(max_sprites):
        active = torch.tensor([k < len(s.sprites) for s in specs], device=dev)
        spr = [s.sprites[k] if k < len(s.sprites) else s.sprites[0] for s in specs]
        colour = torch.tensor([RGB[p.colour] for p in spr], device=dev)[:, None, :, None, None]
        path = torch.tensor([p.path for p in spr], device=dev)  # (N,F,2)
        angle = torch.tensor([p.angle for p in spr], device=dev)  # (N,F)
        scale = torch.tensor([SIZE_PX[p.size] for p in spr], device=dev)[:, None, None, None]
        is_person = torch.tensor([p.shape == "person" for p in spr], device=dev)
        alpha = torch.zeros(n, frames, SIZE, SIZE, device=dev)
        if (~is_person).any():
            shape_id = torch.tensor([SHAPES.index(p.shape) if p.shape != "person" else 0 for p in spr], device=dev)
            dx = wx - path[..., 0][..., None, None]
            dy = wy - path[..., 1][..., None, None]
            ca, sa = torch.cos(-angle)[..., None, None], torch.sin(-angle)[..., None, None]
            u = (dx * ca - dy * sa) / scale
            v = (dx * sa + dy * ca) / scale
            d = _shape_distance(shape_id[:, None, None, None], u, v)
            alpha = torch.sigmoid((1 - d) * scale * 2.5)
        if is_person.any():
            joints = torch.tensor([p.joints if p.joints is not None else [[0.0] * 8] * frames for p in spr], device=dev)
            pa = _person_alpha(wx, wy, path, angle, joints, 7.0)
            alpha = torch.where(is_person[:, None, None, None], pa, alpha)
        alpha = alpha * active[:, None, None, None]
        img = img * (1 - alpha[:, :, None]) + colour * alpha[:, :, None]
    return (img.clamp(0, 1) * 2 - 1).contiguous()
