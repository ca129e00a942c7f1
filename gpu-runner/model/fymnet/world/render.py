"""Renders clip descriptions (world/spec.py) with torch, a batch at a time, on any device: the
pretraining world's pixels, and MotionBench's reference clips."""
from __future__ import annotations

import math

import torch

from fymnet.vocab import SHAPES, STYLES
from fymnet.world.spec import FRAMES, SIZE, SIZE_PX, ClipSpec

# Colour names of the vocabulary as RGB in [0, 1]; gpu-runner/evaluation/metrics/paint.ts holds the same palette.
RGB = {
    "red": (0.9, 0.1, 0.1), "green": (0.1, 0.8, 0.2), "blue": (0.2, 0.35, 1.0), "yellow": (0.95, 0.9, 0.1),
    "cyan": (0.1, 0.9, 0.9), "magenta": (0.9, 0.15, 0.85), "white": (1.0, 1.0, 1.0), "orange": (1.0, 0.55, 0.05),
    "black": (0.0, 0.0, 0.0), "gray": (0.35, 0.35, 0.35), "navy": (0.05, 0.05, 0.35), "maroon": (0.35, 0.05, 0.05),
    "olive": (0.3, 0.3, 0.05), "teal": (0.05, 0.3, 0.3),
}


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
