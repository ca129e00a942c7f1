"""Object masks from clips: the world's backgrounds are dark by construction, so brightness alone
separates objects from background (gpu-runner/evaluation/metrics/segment.ts uses the same cut)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from fymnet.world.spec import SIZE


def brightness(clips: torch.Tensor) -> torch.Tensor:
    """(N,F,3,H,W) in [-1,1] -> (N,F,H,W): the brightest channel in [0,1]."""
    return ((clips + 1) / 2).max(2).values


def foreground(clips: torch.Tensor) -> torch.Tensor:
    """(N,F,3,H,W) in [-1,1] -> (N,F,H,W) bool."""
    return brightness(clips) > 0.62


def soft_mask(bright: torch.Tensor) -> torch.Tensor:
    """How far a pixel is above the brightest background, in [0,1]."""
    return (bright - 0.5).div(0.3).clamp(0, 1)


def recentre(masks: torch.Tensor) -> torch.Tensor:
    """(N,1,H,W) masks shifted so their centroid sits at the centre."""
    n = masks.shape[0]
    ys, xs = torch.meshgrid(torch.arange(SIZE, device=masks.device), torch.arange(SIZE, device=masks.device), indexing="ij")
    w = masks[:, 0].sum((1, 2)).clamp_min(1e-6)
    cy = (masks[:, 0] * ys).sum((1, 2)) / w
    cx = (masks[:, 0] * xs).sum((1, 2)) / w
    theta = torch.zeros(n, 2, 3, device=masks.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = (cx - (SIZE - 1) / 2) / (SIZE / 2)
    theta[:, 1, 2] = (cy - (SIZE - 1) / 2) / (SIZE / 2)
    g = F.affine_grid(theta, list(masks.shape), align_corners=False)
    return F.grid_sample(masks, g, align_corners=False)
