"""Parity on the GPU machine: every ONNX graph against the PyTorch function it was traced from
(fresh random inputs each run, fp32 on CPU, relative error ≤ 1e-4 for outputs and gradients), and a
LoRA saved in our safetensors format loaded with peft onto the PyTorch model against the ONNX
denoiser with the same LoRA in a slot.

python -m fymnet.evaluation.parity --artifacts DIR [--json OUT.json]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from fymnet import safetensors_io
from fymnet.checkpoint import load_model
from fymnet.graphs import specs
from fymnet.network.lora import PROJECTIONS

TOL = 1e-4


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """Relative L2 error of `a` against the reference `b`."""
    return float(np.linalg.norm(a.astype(np.float64) - b) / max(np.linalg.norm(b.astype(np.float64)), 1e-30))


def random_inputs(spec, model, gen: torch.Generator) -> list[torch.Tensor]:
    """The model's weights, then fresh random values for every input of the graph."""
    sd = model.state_dict()
    cfg = model.cfg
    args = [sd[k] for k in spec.weights]
    for name, shape, dt in spec.inputs:
        if dt == torch.int64:
            t = torch.randint(2, cfg.vocab, shape, generator=gen)
            t[..., 0] = 1
            t[..., 10:] = 0
        elif name == "t":
            t = torch.rand(shape, generator=gen)
        elif name == "text_mask":
            t = torch.ones(shape)
            t[..., 12:] = 0
        elif name == "frame_pos":
            t = torch.sort(torch.randperm(cfg.frames, generator=gen)[: shape[0]].float()).values
        elif name == "loss_weights":
            t = torch.tensor([1.0, 0.7])
        elif name.endswith("scale"):
            t = torch.rand(shape, generator=gen) + 0.5
        elif name.startswith(("lora", "frozen")):
            t = torch.randn(shape, generator=gen) * 0.05
        else:
            t = torch.randn(shape, generator=gen)
        args.append(t)
    return args


def graph_parity(artifacts: str, model, sparse: int, seed: int) -> dict:
    """Every graph run by onnxruntime against its PyTorch function on the same random inputs."""
    import onnxruntime as ort
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for spec in specs(model, sparse):
        sess = ort.InferenceSession(os.path.join(artifacts, f"{spec.name}.onnx"), providers=["CPUExecutionProvider"])
        declared = {i.name for i in sess.get_inputs()}
        args = random_inputs(spec, model, gen)
        names = list(spec.weights) + [n for n, _, _ in spec.inputs]
        feeds = {n: a.numpy() for n, a in zip(names, args) if n in declared}
        got = sess.run(spec.outputs, feeds)
        ref = [r.detach().numpy() for r in spec.fn(*args)]
        errs = {n: rel(g, r) for n, g, r in zip(spec.outputs, got, ref)}
        out[spec.name] = {"rel_err": errs, "ok": all(e <= TOL for e in errs.values())}
        print(json.dumps({"graph": spec.name, **out[spec.name]}), flush=True)
    return out


def peft_parity(artifacts: str, model, seed: int) -> dict:
    """A LoRA file in our format -> peft on the PyTorch model, vs the ONNX denoiser with it in slot 0."""
    import onnxruntime as ort
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    cfg = model.cfg
    gen = torch.Generator().manual_seed(seed + 1)
    rank, alpha = cfg.lora_rank, 4.0
    A = torch.randn(cfg.depth, 4, rank, cfg.dim, generator=gen) * 0.05
    B = torch.randn(cfg.depth, 4, cfg.dim, rank, generator=gen) * 0.05
    tensors = {}
    for i in range(cfg.depth):
        for p, proj in enumerate(PROJECTIONS):
            tensors[f"base_model.model.blocks.{i}.attn.{proj}.lora_A.weight"] = A[i, p].clone()
            tensors[f"base_model.model.blocks.{i}.attn.{proj}.lora_B.weight"] = B[i, p].clone()
    path = os.path.join(artifacts, "..", "parity-lora.safetensors")
    safetensors_io.save(tensors, path, {"format": "pt", "rank": str(rank), "alpha": str(alpha)})
    loaded, _ = safetensors_io.load(path)

    import copy
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(
        r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=r".*blocks\.\d+\.attn\.(q|k|v|o)$"))
    result = set_peft_model_state_dict(peft_model, loaded)
    unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora" in k]
    x = torch.randn(2, cfg.frames, 3, cfg.size, cfg.size, generator=gen)
    t = torch.rand(2, generator=gen)
    tokens = torch.randint(2, cfg.vocab, (2, cfg.max_tokens), generator=gen)
    tokens[:, 0], tokens[:, 9:] = 1, 0
    with torch.no_grad():
        text, mask = model.text(tokens)
        pos = torch.arange(cfg.frames, dtype=torch.float32)
        ref = peft_model(x, t, text, mask, pos).numpy()
    sess = ort.InferenceSession(os.path.join(artifacts, "denoiser.onnx"), providers=["CPUExecutionProvider"])
    declared = {i.name for i in sess.get_inputs()}
    sd = model.state_dict()
    zA, zB = torch.zeros_like(A), torch.zeros_like(B)
    feeds = {k: v.numpy() for k, v in sd.items() if k in declared}
    feeds.update({"x": x.numpy(), "t": t.numpy(), "text": text.numpy(), "text_mask": mask.numpy(), "frame_pos": pos.numpy(),
                  "lora_A": torch.stack([A, zA]).numpy(), "lora_B": torch.stack([B, zB]).numpy(),
                  "lora_scale": np.array([alpha / rank, 0.0], np.float32)})
    got = sess.run(["v"], feeds)[0]
    with torch.no_grad():
        base = model(x, t, text, mask, pos).numpy()
    r = {"rel_err": rel(got, ref), "lora_effect": rel(ref, base), "unexpected_keys": unexpected}
    r["ok"] = r["rel_err"] <= TOL and r["lora_effect"] > 1e-3 and not unexpected
    print(json.dumps({"peft": r}), flush=True)
    return r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(8)
    model, _ = load_model(os.path.join(args.artifacts, "weights.safetensors"))
    manifest = json.load(open(os.path.join(args.artifacts, "manifest.json")))
    seed = int(time.time())
    report = {"seed": seed, "tolerance": TOL,
              "graphs": graph_parity(args.artifacts, model, manifest["model"]["sparse_frames"], seed),
              "peft": peft_parity(args.artifacts, model, seed)}
    report["ok"] = all(g["ok"] for g in report["graphs"].values()) and report["peft"]["ok"]
    print(json.dumps({"parity_ok": report["ok"]}), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
