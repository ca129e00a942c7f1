"""Counter-based Gaussian noise: element i of seed s is a pure function of (s, i), the same here and in
the TypeScript runner (gpu-runner/fym/noise.ts), so a training step's noise does not depend on the
engine or on which other LoRAs share its batch."""
from __future__ import annotations

import math

import torch

_M32 = 0xFFFFFFFF


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """murmur3's 32-bit finaliser on int64 tensors holding uint32 values (products wrap mod 2^64,
    whose low 32 bits are the uint32 product)."""
    x = x ^ (x >> 16)
    x = (x * 0x85EBCA6B) & _M32
    x = x ^ (x >> 13)
    x = (x * 0xC2B2AE35) & _M32
    return x ^ (x >> 16)


def seeded_normals(seeds: torch.Tensor, count: int) -> torch.Tensor:
    """(N,) int64 seeds in [0, 2^32) -> (N, count) standard normals, a pure function of (seed, index)."""
    idx = torch.arange(count, device=seeds.device, dtype=torch.int64)
    base = (seeds[:, None] * 0x9E3779B1 + idx[None] * 2) & _M32
    u1 = (_mix32(_mix32(base)).float() + 0.5) / 4294967296.0
    u2 = (_mix32(_mix32((base + 1) & _M32)).float() + 0.5) / 4294967296.0
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)
