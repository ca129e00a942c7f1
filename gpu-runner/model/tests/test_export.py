"""Export: every graph function runs on a tiny config with the shapes it declares, and (where onnx,
onnxruntime and the dynamo exporter are installed, as on the GPU machine) the tiny model exports to
ONNX graphs that match PyTorch on the CPU, with a manifest that hashes every file the runner loads."""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from conftest import perturbed
from fymnet.checkpoint import load_model, save_weights
from fymnet.export.onnx_graph import example_inputs
from fymnet.graphs import specs
from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT

SPARSE = 2
# Export time grows with the graph's node count (a depth-6 training graph took 140 s on the GPU
# machine): one block, 4 frames of 16×16, keeps the test short and exercises the same path.
EXPORT_CONFIG = replace(ModelConfig.tiny(), depth=1, frames=4, size=16)


def test_every_graph_function_runs_with_the_shapes_it_declares(tiny_model):
    cfg = tiny_model.cfg
    graphs = specs(tiny_model, SPARSE)
    assert [g.name for g in graphs] == ["text_encoder", "denoiser", "attention_probe", "train_step_spatial", "train_step_sparse", "train_step_dense"]
    for spec in graphs:
        outs = dict(zip(spec.outputs, spec.fn(*example_inputs(spec, tiny_model))))
        inputs = {name: shape for name, shape, _ in spec.inputs}
        if spec.name == "text_encoder":
            assert outs["text"].shape == (1, cfg.max_tokens, cfg.text_dim)
        elif spec.name == "denoiser":
            assert outs["v"].shape == inputs["x"]
        elif spec.name == "attention_probe":
            assert outs["similarities"].shape == (cfg.depth, cfg.heads, 2)
        else:
            assert outs["loss"].shape == () and outs["loss_terms"].shape == (2,)
            assert outs["grad_A"].shape == inputs["lora_A"] and outs["grad_B"].shape == inputs["lora_B"]


def _export_unavailable() -> str | None:
    missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
    if missing:
        return f"the Python modules {', '.join(missing)} are not installed (the GPU machine has them)"
    if "dynamo" not in inspect.signature(torch.onnx.export).parameters:
        return f"torch {torch.__version__} has no dynamo ONNX exporter (torch.onnx.export(dynamo=True) needs torch ≥ 2.5)"
    return None


@pytest.mark.skipif(_export_unavailable() is not None, reason=_export_unavailable() or "")
def test_a_tiny_model_exports_to_graphs_that_match_pytorch_on_the_cpu(tmp_path):
    from fymnet.evaluation.parity import graph_parity
    from fymnet.export.artifacts import export_artifacts, sha256_file

    torch.manual_seed(0)
    weights = str(tmp_path / "tiny.safetensors")
    save_weights(perturbed(VideoDiT(EXPORT_CONFIG)), weights, {"model": "fym-tiny-dit", "config": EXPORT_CONFIG.to_dict()})
    out = str(tmp_path / "artifacts")
    manifest = export_artifacts(weights, out, sparse_frames=SPARSE)
    model = manifest["model"]
    for file, digest in [(model["weights"], model["sha256"]), (model["vocab"], model["vocab_sha256"])] + \
            [(g["file"], g["sha256"]) for g in manifest["graphs"].values()]:
        assert sha256_file(os.path.join(out, file)) == digest, file
    reloaded, _ = load_model(os.path.join(out, "weights.safetensors"))
    report = graph_parity(out, reloaded, SPARSE, seed=0)
    assert all(r["ok"] for r in report.values()), report
    from manifest_schema import SCHEMA, problems

    assert problems(json.loads(open(os.path.join(out, "manifest.json")).read()), SCHEMA) == [], "the export writes what the runner parses"


def test_the_committed_manifest_fits_the_schema_the_runner_and_registry_parse_with():
    from manifest_schema import SCHEMA, problems

    manifest = json.loads((Path(__file__).resolve().parents[1].parent / "artifacts" / "manifest.json").read_text())
    assert problems(manifest, SCHEMA) == []
    broken = {**manifest, "model": {k: v for k, v in manifest["model"].items() if k != "sparse_frames"}}
    assert problems(broken, SCHEMA) == ["$.model.sparse_frames: missing"], "the check can fail"
