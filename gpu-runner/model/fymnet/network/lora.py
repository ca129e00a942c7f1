"""LoRA slots: tensors passed to forward (not modules), so the exported ONNX graphs take them as
inputs: A (slots, depth, 4, r, dim), B (slots, depth, 4, dim, r), scale (slots,). Projection p of
block i computes W x + b + sum_s scale[s] * B[s,i,p] (A[s,i,p] x). A zero slot is free.
"""
from __future__ import annotations

import torch
from torch import nn

from fymnet.network.config import ModelConfig

PROJECTIONS = ["q", "k", "v", "o"]


def lora_linear(x: torch.Tensor, layer: nn.Linear, lora, block: int, proj: int) -> torch.Tensor:
    """`layer(x)` plus every slot's low-rank update for projection `proj` of block `block`."""
    y = layer(x)
    if lora is None:
        return y
    A, B, scale = lora  # (slots, depth, 4, r, din), (slots, depth, 4, dout, r), (slots,)
    if A.dim() == 6:
        # Every sample of the batch has its own LoRAs: A (N, slots, depth, 4, r, din), scale (N, slots).
        # This is what trains N independent LoRAs (N reference clips or N recipes) in one step.
        for s in range(A.shape[1]):
            h = torch.bmm(x, A[:, s, block, proj].transpose(1, 2))
            y = y + scale[:, s, None, None] * torch.bmm(h, B[:, s, block, proj].transpose(1, 2))
        return y
    for s in range(A.shape[0]):
        y = y + scale[s] * ((x @ A[s, block, proj].transpose(0, 1)) @ B[s, block, proj].transpose(0, 1))
    return y


def zero_lora(cfg: ModelConfig, slots: int | None = None, device=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Empty LoRA slots (A, B, scale) for `cfg`: the base model's output, unchanged."""
    n = cfg.lora_slots if slots is None else slots
    A = torch.zeros(n, cfg.depth, 4, cfg.lora_rank, cfg.dim, device=device)
    B = torch.zeros(n, cfg.depth, 4, cfg.dim, cfg.lora_rank, device=device)
    return A, B, torch.zeros(n, device=device)
