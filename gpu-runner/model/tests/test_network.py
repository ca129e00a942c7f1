"""The network's layout and numbers: the shipped weights fit the default config, the PyTorch
functions reproduce the golden outputs recorded at export, and every part has the shapes it promises."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import ARTIFACTS
from fymnet import safetensors_io
from fymnet.checkpoint import load_model
from fymnet.export.golden import golden_input
from fymnet.graphs import specs
from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT
from fymnet.network.heads import AttentionProbe
from fymnet.vocab import VOCAB

MANIFEST = json.loads((ARTIFACTS / "manifest.json").read_text())
NP_DTYPE = {torch.float32: "float32", torch.int64: "int64"}


@pytest.fixture(scope="module")
def shipped():
    model, _ = load_model(str(ARTIFACTS / "weights.safetensors"))
    return model


def test_the_default_config_is_the_shipped_one_and_its_tensors_are_the_shipped_weights():
    assert ModelConfig().to_dict() == MANIFEST["model"]["config"]
    tensors, meta = safetensors_io.load(str(ARTIFACTS / "weights.safetensors"))
    model = VideoDiT(ModelConfig())
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == {k: tuple(v.shape) for k, v in tensors.items()}
    assert json.loads(meta["config"]) == ModelConfig().to_dict()
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 5.35


def test_the_vocabulary_is_the_shipped_one():
    assert json.loads((ARTIFACTS / "vocab.json").read_text())["words"] == VOCAB


@pytest.mark.parametrize("index,name", list(enumerate(MANIFEST["graphs"])))
def test_pytorch_reproduces_the_golden_outputs_recorded_at_export(shipped, index, name):
    spec = specs(shipped, MANIFEST["model"]["sparse_frames"])[index]
    assert spec.name == name
    sd = shipped.state_dict()
    args = [sd[k] for k in spec.weights]
    for ii, (input_name, shape, dt) in enumerate(spec.inputs):
        args.append(torch.from_numpy(golden_input(index, ii, input_name, shape, NP_DTYPE[dt], shipped.cfg.vocab)))
    with torch.no_grad() if not name.startswith("train_step") else torch.enable_grad():
        outs = spec.fn(*args)
    for output, out in zip(spec.outputs, outs):
        recorded = MANIFEST["graphs"][name]["golden"]["outputs"][output]
        flat = out.detach().double().flatten().numpy()
        assert list(out.shape) == recorded["shape"]
        # The tolerance of the TypeScript check against the same record (engine.test.ts).
        scale = max(max(abs(v) for v in recorded["values"]), recorded["abs_sum"] / flat.size, 1e-12)
        np.testing.assert_allclose(flat[recorded["indices"]], recorded["values"], rtol=0, atol=1e-4 * scale + 1e-7, err_msg=f"{name}.{output}")
        assert abs(np.abs(flat).sum() - recorded["abs_sum"]) <= 1e-4 * recorded["abs_sum"] + 1e-6


def test_the_denoiser_predicts_a_velocity_shaped_like_its_clip(tiny_model):
    cfg = tiny_model.cfg
    x = torch.randn(2, cfg.frames, 3, cfg.size, cfg.size)
    text, mask = tiny_model.text(torch.randint(2, cfg.vocab, (2, cfg.max_tokens)))
    assert text.shape == (2, cfg.max_tokens, cfg.text_dim) and mask.shape == (2, cfg.max_tokens)
    with torch.no_grad():
        v = tiny_model(x, torch.rand(2), text, mask, torch.arange(cfg.frames, dtype=torch.float32))
        v_sparse = tiny_model(x[:, :3], torch.rand(2), text, mask, torch.tensor([0.0, 7.5, 15.0]))
    assert v.shape == x.shape and v_sparse.shape == x[:, :3].shape
    assert v.abs().sum() > 0


def test_the_probe_gives_a_spatial_and_a_temporal_similarity_per_head(tiny_model):
    cfg = tiny_model.cfg
    x = torch.randn(1, cfg.frames, 3, cfg.size, cfg.size)
    text, mask = tiny_model.text(torch.randint(2, cfg.vocab, (1, cfg.max_tokens)))
    t, pos = torch.rand(1), torch.arange(cfg.frames, dtype=torch.float32)
    with torch.no_grad():
        maps = tiny_model.attention_maps(x, t, text, mask, pos)
        sims = AttentionProbe(tiny_model)(x, t, text, mask, pos)
    tokens = cfg.frames * cfg.grid ** 2
    assert [m.shape for m in maps] == [(1, cfg.heads, tokens, tokens)] * cfg.depth
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(1, cfg.heads, tokens))
    assert sims.shape == (cfg.depth, cfg.heads, 2)
