"""FYM's head classification: how much each self-attention head attends within a frame (spatial)
and across frames (temporal), measured on the attention maps of one denoiser pass."""
from __future__ import annotations

import torch

from fymnet.network.dit import VideoDiT


def head_similarities(maps: list[torch.Tensor], frames: int, grid: int, radius: int = 1) -> torch.Tensor:
    """FYM head classification statistics: cosine similarity of each head's attention map with the
    spatial pseudo map (same frame, |Δrow|,|Δcol| ≤ radius) and the temporal one (other frames, same
    neighbourhood). Returns (depth, heads, 2) averaged over the batch. Masks are built from token
    coordinates, so no S×S constant is stored."""
    s = frames * grid * grid
    idx = torch.arange(s, device=maps[0].device)
    f, r, c = idx // (grid * grid), (idx // grid) % grid, idx % grid
    near = ((r[:, None] - r[None, :]).abs() <= radius) & ((c[:, None] - c[None, :]).abs() <= radius)
    same = f[:, None] == f[None, :]
    m_sp = (near & same).float()
    m_tp = (near & ~same).float()
    out = []
    for a in maps:
        norm_a = torch.sqrt((a * a).sum((-1, -2)))  # (B, H)
        sp = (a * m_sp).sum((-1, -2)) / (norm_a * torch.sqrt(m_sp.sum()) + 1e-12)
        tp = (a * m_tp).sum((-1, -2)) / (norm_a * torch.sqrt(m_tp.sum().clamp_min(1.0)) + 1e-12)
        out.append(torch.stack([sp, tp], -1).mean(0))
    return torch.stack(out)


class AttentionProbe(torch.nn.Module):
    """forward = the attention maps of one denoiser pass, reduced to FYM's head similarities: the
    `attention_probe` graph, and the torch process's `probe` op."""

    def __init__(self, model: VideoDiT):
        super().__init__()
        self.model = model

    def forward(self, x, t, text, mask, pos):
        maps = self.model.attention_maps(x, t, text, mask, pos)
        return head_similarities(maps, x.shape[1], self.model.cfg.grid)
