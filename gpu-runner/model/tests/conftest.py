"""Shared fixtures: the committed artifacts, and a tiny model whose every weight is non-zero (the
zero-initialised adaLN and output layers would otherwise make every output trivially zero)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def perturbed(model: VideoDiT, seed: int = 0) -> VideoDiT:
    """The model with small random values added to every weight, in place."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    return model.eval()


@pytest.fixture
def tiny_model() -> VideoDiT:
    torch.manual_seed(0)
    return perturbed(VideoDiT(ModelConfig.tiny()))
