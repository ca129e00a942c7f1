"""Weights files: the network's state dict rounded to fp16 with its config in the metadata, so a file
alone rebuilds its model (training writes them; export, evaluation and the torch process read them)."""
from __future__ import annotations

import json

import torch

from fymnet import safetensors_io
from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT


def save_weights(model: VideoDiT, path: str, meta: dict) -> None:
    """Writes the model's weights as fp16; non-string metadata values are stored as JSON."""
    tensors = {k: v.detach().to(torch.float16).contiguous().cpu() for k, v in model.state_dict().items()}
    safetensors_io.save(tensors, path, {k: json.dumps(v) if not isinstance(v, str) else v for k, v in meta.items()})


def load_model(weights: str) -> tuple[VideoDiT, dict]:
    """The model a weights file describes, in fp32 and eval mode, with the file's metadata."""
    tensors, meta = safetensors_io.load(weights)
    cfg = ModelConfig(**json.loads(meta["config"]))
    model = VideoDiT(cfg)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval(), meta
