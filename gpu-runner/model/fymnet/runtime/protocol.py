"""The torch process's wire format: every message, both ways, is one safetensors frame — 8 bytes of
little-endian header length, a JSON header (tensor dtypes, shapes, byte offsets; `__metadata__` holds
the op and its options), then the raw little-endian tensor bytes (gpu-runner/engine/torch/protocol.ts
writes and reads the other end)."""
from __future__ import annotations

import json
import struct

import torch

DTYPES = {"F32": (4, torch.float32), "I64": (8, torch.int64)}
# The ops a request may name, declared once on this side and sent in the ready frame, where the runner
# checks them against its own list (gpu-runner/engine/torch/protocol.ts TORCH_OPS) before any call.
OPS = ("text", "denoise", "denoise_many", "probe", "train", "trainer_init", "trainer_step", "trainer_weights", "trainer_free")
CACHE_BYTES = 2 << 30


def read_exact(stream, n: int) -> bytes:
    """Exactly n bytes from the stream; EOFError when the runner closed it."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError("stdin closed")
        buf += chunk
    return bytes(buf)


def read_frame(stream, device, cache: dict[str, torch.Tensor]) -> tuple[dict, dict[str, torch.Tensor]]:
    """One request: its tensors land on the device in a single host-to-device copy. Tensors the
    runner marked `store` are kept under their key; `cached` ones are taken from there unsent."""
    n = struct.unpack("<Q", read_exact(stream, 8))[0]
    header = json.loads(read_exact(stream, n))
    meta = header.pop("__metadata__", {})
    size = max((v["data_offsets"][1] for v in header.values()), default=0)
    data = bytearray(read_exact(stream, size))
    flat = torch.frombuffer(data, dtype=torch.uint8).to(device, non_blocking=False) if size else None
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        size, dt = DTYPES[info["dtype"]]
        raw = flat[a:b] if a % size == 0 else flat[a:b].clone()  # a view needs its element alignment
        tensors[name] = raw.view(dt).reshape(info["shape"])
    for name, key in json.loads(meta.get("store", "{}")).items():
        cache[key] = tensors[name].clone()  # its own storage: a view would keep the whole frame alive
    for name, key in json.loads(meta.get("cached", "{}")).items():
        if key not in cache:
            raise KeyError(f"cached tensor {key} for '{name}' is not held by this process")
        tensors[name] = cache[key]
    # Oldest first; the runner re-sends what it no longer finds. Batched generation holds every
    # item's LoRA slots and text here, so the bound is in bytes.
    while sum(v.numel() * v.element_size() for v in cache.values()) > CACHE_BYTES and len(cache) > 1:
        cache.pop(next(iter(cache)))
    return meta, tensors


def write_frame(stream, meta: dict, tensors: dict[str, torch.Tensor]) -> None:
    """One reply: the outputs gathered on the device and brought back in a single copy."""
    header: dict = {"__metadata__": {k: str(v) for k, v in meta.items()}}
    flat = [t.detach().float().reshape(-1) for t in tensors.values()]
    raw = torch.cat(flat).cpu().numpy().tobytes() if flat else b""
    off = 0
    for (name, t), f in zip(tensors.items(), flat):
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + 4 * f.numel()]}
        off += 4 * f.numel()
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    stream.write(struct.pack("<Q", len(h)) + h + raw)
    stream.flush()
