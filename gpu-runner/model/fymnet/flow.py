"""Rectified flow (flow matching): x_t = (1 - t) x0 + t ε, the network predicts v = ε - x0, and
sampling integrates dx/dt = v from t = 1 (noise) to t = 0 with Euler steps and classifier-free guidance."""
from __future__ import annotations

import contextlib

import torch

from fymnet.vocab import CLS, INDEX, MAX_TOKENS, PAD, tokenize


def bf16(enabled: bool):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU-only torch builds reject a disabled CUDA autocast)."""
    # No cast cache: CUDA graph capture must not keep casts made outside the graph's memory pool.
    return torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False) if enabled else contextlib.nullcontext()


def logit_normal(n: int, generator=None, device=None) -> torch.Tensor:
    """Timesteps concentrated mid-range, as SD3/Wan train flow models."""
    return torch.sigmoid(torch.randn(n, generator=generator, device=device))


def empty_tokens(n: int, device=None) -> torch.Tensor:
    """n empty captions (<cls> then <pad>): the unconditional branch of classifier-free guidance."""
    t = torch.full((n, MAX_TOKENS), INDEX[PAD], dtype=torch.long, device=device)
    t[:, 0] = INDEX[CLS]
    return t


def tokens_for(captions: list[str], device=None) -> torch.Tensor:
    """Captions -> (N, MAX_TOKENS) token ids."""
    return torch.tensor([tokenize(c) for c in captions], dtype=torch.long, device=device)


def schedule(steps: int, shift: float = 1.0, device=None) -> torch.Tensor:
    """steps + 1 times from 1 to 0; shift > 1 spends more steps at high noise, where layout is decided (SD3)."""
    s = torch.linspace(1.0, 0.0, steps + 1, device=device)
    return shift * s / (1 + (shift - 1) * s)


@torch.no_grad()
def sample(model, captions: list[str], steps: int = 20, guidance: float = 4.0, seed: int = 0, device="cpu",
           frames: int | None = None, lora=None, autocast: bool = False, shift: float = 1.0) -> torch.Tensor:
    """Clips (N, F, 3, H, W) in [-1, 1] for the captions: Euler steps from noise with guidance."""
    cfg = model.cfg
    frames = frames or cfg.frames
    n = len(captions)
    g = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(n, frames, 3, cfg.size, cfg.size, generator=g).to(device)
    text, mask = model.text(torch.cat([tokens_for(captions, device), empty_tokens(n, device)]))
    pos = torch.arange(frames, device=device, dtype=torch.float32)
    ts = schedule(steps, shift, device)
    for i in range(steps):
        t = ts[i].expand(2 * n)
        with bf16(autocast):
            v = model(torch.cat([x, x]), t, text, mask, pos, lora, fast=True).float()
        v_c, v_u = v[:n], v[n:]
        x = x + (ts[i + 1] - ts[i]) * (v_u + guidance * (v_c - v_u))
    return x.clamp(-1, 1)
