"""The video diffusion transformer: pixel-space DiT with 3D RoPE (network/rope.py), full 3D
self-attention, cross-attention to a small text encoder, adaLN-Zero timestep conditioning, and LoRA
slots on the q, k, v and o projections of every self-attention (network/lora.py).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fymnet.network.config import ModelConfig
from fymnet.network.lora import lora_linear
from fymnet.network.rope import apply_rope, rope_angles
from fymnet.vocab import INDEX, PAD


class SelfAttention(nn.Module):
    """Full 3D self-attention with RoPE; q, k, v and o carry the LoRA slots."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.q, self.k, self.v, self.o = (nn.Linear(cfg.dim, cfg.dim) for _ in range(4))

    def qkv(self, x, cos, sin, lora, block):
        """Queries and keys rotated by RoPE, and values, each (B, heads, S, head_dim)."""
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
        """The attention probabilities (B, heads, S, S) that forward would apply."""
        q, k, _ = self.qkv(x, cos, sin, lora, block)
        return torch.softmax((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1])), -1)


class CrossAttention(nn.Module):
    """Video tokens attend to the caption's word embeddings (padding masked out)."""

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
    """Self-attention, cross-attention to the caption, MLP; adaLN-Zero modulation from the timestep and pooled caption."""

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
    """Sinusoidal features of t in [0, 1] (scaled by 1000, as DiT embeds integer steps)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    ang = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(ang), torch.sin(ang)], -1)


class VideoDiT(nn.Module):
    """Predicts the flow velocity of a noisy clip given its timestep and caption (fymnet.flow)."""

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
        """(B, F, 3, H, W) -> (B, F·G·G, 3·P·P) tokens, ordered (frame, row, col)."""
        b, f, c, hh, ww = x.shape
        p, g = self.cfg.patch, self.cfg.grid
        x = x.reshape(b, f, c, g, p, g, p).permute(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(b, f * g * g, c * p * p)

    def unpatchify(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        """The inverse of patchify."""
        b = x.shape[0]
        p, g = self.cfg.patch, self.cfg.grid
        x = x.reshape(b, frames, g, g, 3, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, frames, 3, g * p, g * p)

    def condition(self, t, text, text_mask):
        """The adaLN conditioning: timestep embedding plus the pooled caption (<cls>)."""
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
