"""PNG and GIF writers with no dependencies beyond numpy and zlib (the GPU machine has no PIL)."""
from __future__ import annotations

import struct
import zlib

import numpy as np


def write_png(path: str, rgb: np.ndarray) -> None:
    """rgb: (H, W, 3) uint8."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def _lzw(indices: np.ndarray, min_code: int = 8) -> bytes:
    clear, end = 1 << min_code, (1 << min_code) + 1
    table = {bytes([i]): i for i in range(clear)}
    next_code, size = end + 1, min_code + 1
    out, acc, nbits = bytearray(), 0, 0

    def emit(code: int) -> None:
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    emit(clear)
    w = b""
    for b in indices.tobytes():
        wc = w + bytes([b])
        if wc in table:
            w = wc
            continue
        emit(table[w])
        if next_code < 4096:
            table[wc] = next_code
            next_code += 1
            if next_code > (1 << size) and size < 12:
                size += 1
        else:
            emit(clear)
            table = {bytes([i]): i for i in range(clear)}
            next_code, size = end + 1, min_code + 1
        w = bytes([b])
    if w:
        emit(table[w])
    emit(end)
    if nbits:
        out.append(acc & 0xFF)
    blocks = bytearray()
    for i in range(0, len(out), 255):
        part = out[i:i + 255]
        blocks.append(len(part))
        blocks += part
    return bytes(blocks) + b"\x00"


def write_gif(path: str, frames: np.ndarray, delay_cs: int = 10) -> None:
    """frames: (F, H, W, 3) uint8; a fixed 6×6×6 colour cube palette, looping forever."""
    f, h, w, _ = frames.shape
    levels = np.array([0, 51, 102, 153, 204, 255], dtype=np.uint8)
    palette = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    palette = np.concatenate([palette, np.zeros((256 - len(palette), 3), np.uint8)])
    q = np.clip((frames.astype(np.int32) + 25) // 51, 0, 5)
    idx = (q[..., 0] * 36 + q[..., 1] * 6 + q[..., 2]).astype(np.uint8)
    data = bytearray(b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0) + palette.tobytes())
    data += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for i in range(f):
        data += b"\x21\xf9\x04\x00" + struct.pack("<H", delay_cs) + b"\x00\x00"
        data += b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x08" + _lzw(idx[i])
    data += b"\x3b"
    with open(path, "wb") as fh:
        fh.write(bytes(data))


def to_uint8(clips) -> np.ndarray:
    """(N, F, 3, H, W) in [-1, 1] -> (N, F, H, W, 3) uint8."""
    x = clips.detach().float().clamp(-1, 1).add(1).mul(127.5).round().byte().cpu().numpy()
    return x.transpose(0, 1, 3, 4, 2)


def grid(clips: np.ndarray, cols: int, scale: int = 2, pad: int = 2) -> np.ndarray:
    """(N, F, H, W, 3) -> (F, rows*(H+pad), cols*(W+pad), 3), each clip upscaled."""
    n, f, h, w, _ = clips.shape
    rows = (n + cols - 1) // cols
    hh, ww = h * scale + pad, w * scale + pad
    out = np.full((f, rows * hh, cols * ww, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        up = clips[i].repeat(scale, 1).repeat(scale, 2)
        out[:, r * hh:r * hh + h * scale, c * ww:c * ww + w * scale] = up
    return out


def line_chart(path: str, series: dict[str, list[tuple[float, float]]], width: int = 640, height: int = 360,
               log_y: bool = True) -> None:
    """A minimal line chart PNG (axes box, one colour per series) for loss curves."""
    img = np.full((height, width, 3), 255, np.uint8)
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40)]
    pts_all = [p for s in series.values() for p in s]
    xs = [p[0] for p in pts_all]
    ys = [np.log10(max(p[1], 1e-9)) if log_y else p[1] for p in pts_all]
    x0, x1, y0, y1 = min(xs), max(xs) or 1, min(ys), max(ys)
    m = 30
    img[m, m:width - m] = img[height - m, m:width - m] = 0
    img[m:height - m, m] = img[m:height - m, width - m] = 0
    for k, (_, pts) in enumerate(series.items()):
        c = colours[k % len(colours)]
        prev = None
        for x, y in pts:
            yy = np.log10(max(y, 1e-9)) if log_y else y
            px = int(m + (x - x0) / max(x1 - x0, 1e-9) * (width - 2 * m - 1))
            py = int(height - m - (yy - y0) / max(y1 - y0, 1e-9) * (height - 2 * m - 1))
            if prev is not None:
                n = max(abs(px - prev[0]), abs(py - prev[1]), 1)
                for i in range(n + 1):
                    img[prev[1] + (py - prev[1]) * i // n, prev[0] + (px - prev[0]) * i // n] = c
            prev = (px, py)
    write_png(path, img)
