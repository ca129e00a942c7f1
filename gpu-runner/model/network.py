"""The video diffusion transformer: pixel-space DiT with 3D RoPE, full 3D self-attention,
cross-attention to a small text encoder, adaLN-Zero timestep conditioning, and LoRA slots on the
q, k, v and o projections of every self-attention.

LoRA slots are tensors passed to forward (not modules), so the exported ONNX graphs take them as
inputs: A (slots, depth, 4, r, dim), B (slots, depth, 4, dim, r), scale (slots,). Projection p of
block i computes W x + b + sum_s scale[s] * B[s,i,p] (A[s,i,p] x). A zero slot is free.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vocab import INDEX, MAX_TOKENS, PAD, VOCAB

PROJECTIONS = ["q", "k", "v", "o"]


@dataclass
class ModelConfig:
    frames: int = 16
    size: int = 32
    patch: int = 4
    dim: int = 192
    depth: int = 6
    heads: int = 8
    mlp_ratio: int = 4
    text_dim: int = 128
    text_layers: int = 2
    text_heads: int = 4
    vocab: int = len(VOCAB)
    max_tokens: int = MAX_TOKENS
    lora_rank: int = 8
    lora_slots: int = 2

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def grid(self) -> int:
        return self.size // self.patch

    def to_dict(self) -> dict:
        return asdict(self)


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


def lora_linear(x: torch.Tensor, layer: nn.Linear, lora, block: int, proj: int) -> torch.Tensor:
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


class SelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.q, self.k, self.v, self.o = (nn.Linear(cfg.dim, cfg.dim) for _ in range(4))

    def qkv(self, x, cos, sin, lora, block):
        b, s, _ = x.shape
        h, hd = self.cfg.heads, self.cfg.head_dim
        q = lora_linear(x, self.q, lora, block, 0).view(b, s, h, hd).transpose(1, 2)
        k = lora_linear(x, self.k, lora, block, 1).view(b, s, h, hd).transpose(1, 2)
        v = lora_linear(x, self.v, lora, block, 2).view(b, s, h, hd).transpose(1, 2)
        return apply_rope(q, cos, sin), apply_rope(k, cos, sin), v

    def forward(self, x, cos, sin, lora, block, fast: bool):
        b, s, d = x.shape
        q, k, v = self.qkv(x, cos, sin, lora, block)
        if fast and hasattr(F, "scaled_dot_product_attention"):
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            att = torch.softmax((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1])), -1)
            out = att @ v
        return lora_linear(out.transpose(1, 2).reshape(b, s, d), self.o, lora, block, 3)

    def probs(self, x, cos, sin, lora, block):
        q, k, _ = self.qkv(x, cos, sin, lora, block)
        return torch.softmax((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1])), -1)


class CrossAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.heads = cfg.heads
        self.q = nn.Linear(cfg.dim, cfg.dim)
        self.kv = nn.Linear(cfg.text_dim, 2 * cfg.dim)
        self.o = nn.Linear(cfg.dim, cfg.dim)

    def forward(self, x, text, text_bias):
        b, s, d = x.shape
        h, hd = self.heads, d // self.heads
        q = self.q(x).view(b, s, h, hd).transpose(1, 2)
        k, v = self.kv(text).view(b, text.shape[1], 2, h, hd).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(hd)) + text_bias[:, None, None, :], -1)
        return self.o((att @ v).transpose(1, 2).reshape(b, s, d))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.dim
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(cfg)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.cross = CrossAttention(cfg)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(d, cfg.mlp_ratio * d), nn.GELU(approximate="tanh"), nn.Linear(cfg.mlp_ratio * d, d))
        self.ada = nn.Linear(d, 6 * d)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c, cos, sin, text, text_bias, lora, block, fast):
        sh1, sc1, g1, sh2, sc2, g2 = self.ada(F.silu(c))[:, None, :].chunk(6, -1)
        x = x + g1 * self.attn(self.norm1(x) * (1 + sc1) + sh1, cos, sin, lora, block, fast)
        x = x + self.cross(self.norm2(x), text, text_bias)
        return x + g2 * self.mlp(self.norm3(x) * (1 + sc2) + sh2)


class TextEncoder(nn.Module):
    """Word embeddings + a small pre-LN transformer; token 0 (<cls>) is the pooled caption."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d = cfg.text_dim
        self.heads = cfg.text_heads
        self.embed = nn.Embedding(cfg.vocab, d)
        self.pos = nn.Parameter(torch.randn(cfg.max_tokens, d) * 0.02)
        self.layers = nn.ModuleList()
        for _ in range(cfg.text_layers):
            self.layers.append(nn.ModuleDict({
                "norm1": nn.LayerNorm(d), "qkv": nn.Linear(d, 3 * d), "o": nn.Linear(d, d),
                "norm2": nn.LayerNorm(d), "mlp": nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d)),
            }))
        self.norm = nn.LayerNorm(d)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, L) int64 -> embeddings (B, L, text_dim), mask (B, L) float (1 = word)."""
        b, n = tokens.shape
        mask = (tokens != INDEX[PAD]).float()
        bias = (1.0 - mask) * -1e4
        x = self.embed(tokens) + self.pos[None, :n]
        h, hd = self.heads, x.shape[-1] // self.heads
        for layer in self.layers:
            q, k, v = layer["qkv"](layer["norm1"](x)).view(b, n, 3, h, hd).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(hd)) + bias[:, None, None, :], -1)
            x = x + layer["o"]((att @ v).transpose(1, 2).reshape(b, n, -1))
            x = x + layer["mlp"](layer["norm2"](x))
        return self.norm(x), mask


def timestep_embedding(t: torch.Tensor, dim: int = 256) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    ang = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(ang), torch.sin(ang)], -1)


class VideoDiT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d, p = cfg.dim, cfg.patch
        self.text = TextEncoder(cfg)
        self.patch_in = nn.Linear(3 * p * p, d)
        self.t_mlp = nn.Sequential(nn.Linear(256, d), nn.SiLU(), nn.Linear(d, d))
        self.text_pool = nn.Linear(cfg.text_dim, d)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Linear(d, 2 * d)
        self.patch_out = nn.Linear(d, 3 * p * p)
        for layer in (self.ada_out, self.patch_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        b, f, c, hh, ww = x.shape
        p, g = self.cfg.patch, self.cfg.grid
        x = x.reshape(b, f, c, g, p, g, p).permute(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(b, f * g * g, c * p * p)

    def unpatchify(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        b = x.shape[0]
        p, g = self.cfg.patch, self.cfg.grid
        x = x.reshape(b, frames, g, g, 3, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, frames, 3, g * p, g * p)

    def condition(self, t, text, text_mask):
        return self.t_mlp(timestep_embedding(t)) + self.text_pool(text[:, 0])

    def forward(self, x, t, text, text_mask, frame_pos, lora=None, fast: bool = False):
        """x: (B, F, 3, H, W) noisy clip; t: (B,) in [0, 1]; text: (B, L, text_dim); text_mask: (B, L);
        frame_pos: (F,) temporal RoPE positions. Returns the velocity (noise - clean), shaped like x."""
        frames = x.shape[1]
        cos, sin = rope_angles(frame_pos, self.cfg.grid, self.cfg.head_dim)
        text_bias = (1.0 - text_mask) * -1e4
        c = self.condition(t, text, text_mask)
        h = self.patch_in(self.patchify(x))
        for i, blk in enumerate(self.blocks):
            h = blk(h, c, cos, sin, text, text_bias, lora, i, fast)
        shift, scale = self.ada_out(F.silu(c))[:, None, :].chunk(2, -1)
        return self.unpatchify(self.patch_out(self.norm_out(h) * (1 + scale) + shift), frames)

    def attention_maps(self, x, t, text, text_mask, frame_pos, lora=None):
        """Per block, the self-attention probabilities (B, heads, S, S) of the same forward pass."""
        cos, sin = rope_angles(frame_pos, self.cfg.grid, self.cfg.head_dim)
        text_bias = (1.0 - text_mask) * -1e4
        c = self.condition(t, text, text_mask)
        h = self.patch_in(self.patchify(x))
        maps = []
        for i, blk in enumerate(self.blocks):
            sh1, sc1, _, _, _, _ = blk.ada(F.silu(c))[:, None, :].chunk(6, -1)
            maps.append(blk.attn.probs(blk.norm1(h) * (1 + sc1) + sh1, cos, sin, lora, i))
            h = blk(h, c, cos, sin, text, text_bias, lora, i, False)
        return maps


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


def zero_lora(cfg: ModelConfig, slots: int | None = None, device=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = cfg.lora_slots if slots is None else slots
    A = torch.zeros(n, cfg.depth, 4, cfg.lora_rank, cfg.dim, device=device)
    B = torch.zeros(n, cfg.depth, 4, cfg.dim, cfg.lora_rank, device=device)
    return A, B, torch.zeros(n, device=device)
