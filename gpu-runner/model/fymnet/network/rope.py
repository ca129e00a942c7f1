"""3D rotary position embedding over (frame, row, col). Temporal positions are floats, so adaptive
RoPE can place sparse frames where they sit in the clip."""
from __future__ import annotations

import torch


def rope_split(head_dim: int) -> tuple[int, int, int]:
    """Dimensions of each head given to (time, height, width); each even."""
    t = (head_dim // 3) // 2 * 2
    h = ((head_dim - t) // 2) // 2 * 2
    return t, h, head_dim - t - h


def rope_angles(frame_pos: torch.Tensor, grid: int, head_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin (S, head_dim/2) for tokens ordered (frame, row, col). frame_pos: (F,) float — the
    temporal positions adaptive RoPE sets for sparse frames; (N, F) gives per-sample angles (N, S, head_dim/2)."""
    dt, dh, dw = rope_split(head_dim)
    f = frame_pos.shape[-1]
    dev = frame_pos.device

    def freqs(d: int) -> torch.Tensor:
        return 1.0 / (100.0 ** (torch.arange(0, d, 2, device=dev, dtype=torch.float32) / d))

    rows = torch.arange(grid, device=dev, dtype=torch.float32)
    h_ang = rows[:, None] * freqs(dh)[None]  # (G, dh/2)
    w_ang = rows[:, None] * freqs(dw)[None]
    if frame_pos.dim() == 2:
        n = frame_pos.shape[0]
        t_ang = frame_pos.float()[:, :, None] * freqs(dt)[None, None]  # (N, F, dt/2)
        t_all = t_ang[:, :, None, None, :].expand(n, f, grid, grid, dt // 2)
        h_all = h_ang[None, None, :, None, :].expand(n, f, grid, grid, dh // 2)
        w_all = w_ang[None, None, None, :, :].expand(n, f, grid, grid, dw // 2)
        ang = torch.cat([t_all, h_all, w_all], -1).reshape(n, f * grid * grid, head_dim // 2)
        return torch.cos(ang), torch.sin(ang)
    t_ang = frame_pos.float()[:, None] * freqs(dt)[None]  # (F, dt/2)
    t_all = t_ang[:, None, None, :].expand(f, grid, grid, dt // 2)
    h_all = h_ang[None, :, None, :].expand(f, grid, grid, dh // 2)
    w_all = w_ang[None, None, :, :].expand(f, grid, grid, dw // 2)
    ang = torch.cat([t_all, h_all, w_all], -1).reshape(f * grid * grid, head_dim // 2)
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (B, H, S, D); rotates consecutive pairs (x0, x1) of each head's channels. cos/sin are
    (S, D/2), or (B, S, D/2) when every sample has its own frame positions."""
    if cos.dim() == 3:
        cos, sin = cos[:, None], sin[:, None]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack([r0, r1], -1).flatten(-2)
