"""Deterministic inputs that TypeScript can reproduce bit for bit (gpu-runner/engine/golden.ts), so
CI can check each ONNX graph against outputs recorded at export without shipping the inputs."""
from __future__ import annotations

import numpy as np


def uniform(seed: int, n: int) -> np.ndarray:
    """xorshift32 -> float32 in [-1, 1). Same sequence as golden.ts."""
    x = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1
    out = np.empty(n, np.float32)
    for i in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = np.float32(x / 4294967296.0 * 2.0 - 1.0)
    return out


def golden_input(graph_index: int, input_index: int, name: str, shape: tuple[int, ...], dtype: str, vocab: int) -> np.ndarray:
    """The golden value of one graph input, from its position and name (golden.ts `goldenInput`)."""
    n = int(np.prod(shape)) if shape else 1
    seed = graph_index * 1000 + input_index + 1
    if dtype == "int64":
        ids = np.floor((uniform(seed, n) + 1) / 2 * (vocab - 2)).astype(np.int64) + 2
        ids = ids.reshape(shape)
        ids[..., 0] = 1  # <cls>
        ids[..., shape[-1] // 2:] = 0  # <pad>
        return ids
    if name in ("t",):
        return np.full(shape, 0.35, np.float32)
    if name == "frame_pos":
        return np.arange(n, dtype=np.float32).reshape(shape)
    if name == "text_mask":
        m = np.ones(shape, np.float32)
        m[..., shape[-1] // 2:] = 0
        return m
    if name == "loss_weights":
        return np.array([1.0, 0.5], np.float32)
    if name.endswith("scale"):
        return np.full(shape, 0.5, np.float32)
    scale = 0.05 if name.startswith(("lora", "frozen")) else 1.0
    return (uniform(seed, n) * scale).reshape(shape)


def summarize(a: np.ndarray, points: int = 32) -> dict:
    """What the manifest records of an output: shape, sums and `points` evenly spaced values."""
    flat = a.astype(np.float64).ravel()
    idx = np.linspace(0, flat.size - 1, min(points, flat.size)).round().astype(int)
    return {"shape": list(a.shape), "sum": float(flat.sum()), "abs_sum": float(np.abs(flat).sum()),
            "indices": idx.tolist(), "values": [float(v) for v in flat[idx]]}
