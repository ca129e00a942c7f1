"""The network's hyper-parameters, saved with the weights (`config` in their metadata and in manifest.json)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from fymnet.vocab import MAX_TOKENS, VOCAB


@dataclass
class ModelConfig:
    """The network's shapes; the defaults are the shipped model's."""

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

    @classmethod
    def tiny(cls) -> ModelConfig:
        """A model small enough for smoke tests on a CPU: the same layout, graphs and LoRA slots."""
        return cls(dim=64, depth=2, heads=8, text_dim=32, text_layers=1)

    @property
    def head_dim(self) -> int:
        """Channels per attention head."""
        return self.dim // self.heads

    @property
    def grid(self) -> int:
        """Patches per side of a frame."""
        return self.size // self.patch

    def to_dict(self) -> dict:
        """As saved in the weights' metadata and manifest.json."""
        return asdict(self)
