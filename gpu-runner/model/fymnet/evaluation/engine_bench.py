"""The pure-PyTorch reference for the torch engine's benchmark (gpu-runner/evaluation/speed/engines.ts): the same
operations on the same GPU with no TypeScript and no process boundary. Prints one JSON object.

- step_ms: median ms of one LoRA training step (spatial 1 frame, sparse K frames, dense all frames)
  and of one guided denoiser call (batch 2): plain eager fp32 (the reference), eager bf16, and the
  torch process's CUDA graphs in fp32 and bf16;
- tune_s: a whole FYM tuning loop in Python (probe, 100 spatial + 800 temporal steps, AdamW on the GPU),
  the same steps the TypeScript pipeline drives through the torch process.

Usage: python -m fymnet.evaluation.engine_bench --weights ../artifacts/weights.safetensors [--reps 30]  (from gpu-runner/model)
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from fymnet.graphs import lora_train_step
from fymnet.network.heads import AttentionProbe
from fymnet.runtime.process import TorchProcess


def timed(fn, reps: int) -> float:
    """Median milliseconds of `fn` over `reps` runs, after 3 warm-up runs."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)[len(out) // 2]


def inputs(cfg, frames: int, dev):
    """Seeded inputs of one training step on `frames` frames, on `dev`."""
    g = torch.Generator(device="cpu").manual_seed(0)
    L, dt, D, r, d = cfg.max_tokens, cfg.text_dim, cfg.depth, cfg.lora_rank, cfg.dim
    x0 = torch.randn(1, frames, 3, cfg.size, cfg.size, generator=g).to(dev)
    return dict(x0=x0, noise=torch.randn_like(x0), t=torch.tensor([0.6], device=dev), text=torch.randn(1, L, dt, generator=g).to(dev),
                text_mask=torch.ones(1, L, device=dev), frame_pos=torch.linspace(0, cfg.frames - 1, frames, device=dev),
                frozen_A=torch.randn(D, 4, r, d, generator=g).to(dev) * 0.02, frozen_B=torch.randn(D, 4, d, r, generator=g).to(dev) * 0.02,
                frozen_scale=torch.ones(1, device=dev), lora_A=torch.randn(D, 4, r, d, generator=g).to(dev) * 0.02,
                lora_B=torch.zeros(D, 4, d, r, device=dev), lora_scale=torch.ones(1, device=dev), loss_weights=torch.tensor([1.0, 0.0], device=dev))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--sparse", type=int, default=4)
    args = ap.parse_args()
    result: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "step_ms": {}}
    variants = {"eager_fp32": (False, False), "eager_bf16": (True, False), "graphs_fp32": (False, True), "graphs_bf16": (True, True)}
    for variant, (use_bf16, graphs) in variants.items():
        w = TorchProcess(args.weights, "cuda", use_bf16, False, cuda_graphs=graphs)
        cfg = w.cfg
        row = {}
        for name, frames in (("spatial", 1), ("sparse", args.sparse), ("dense", cfg.frames)):
            t = inputs(cfg, frames, w.device)
            row[f"train_{name}"] = timed(lambda: w.run("train", t), args.reps)
        t = inputs(cfg, cfg.frames, w.device)
        x = torch.cat([t["x0"], t["x0"]])
        dn = {"x": x, "t": torch.tensor([0.5, 0.5], device=w.device), "text": torch.cat([t["text"]] * 2), "text_mask": torch.cat([t["text_mask"]] * 2),
              "frame_pos": torch.arange(cfg.frames, device=w.device, dtype=torch.float32),
              "lora_A": torch.stack([t["frozen_A"], t["lora_A"]]), "lora_B": torch.stack([t["frozen_B"], t["lora_B"]]),
              "lora_scale": torch.ones(2, device=w.device)}
        row["denoise_b2"] = timed(lambda: w.run("denoise", dn), args.reps)
        result["step_ms"][variant] = row
        del w
        torch.cuda.empty_cache()

    # A whole FYM tuning loop, eager fp32, as the TypeScript pipeline runs it (same step counts).
    w = TorchProcess(args.weights, "cuda", False, False)
    cfg, dev = w.cfg, w.device
    t0 = time.perf_counter()
    base = inputs(cfg, cfg.frames, dev)
    probe = AttentionProbe(w.model)
    with torch.no_grad():
        probe(base["x0"], torch.tensor([0.5], device=dev), base["text"], base["text_mask"], base["frame_pos"])
    for stage, steps, frames in (("spatial", 100, 1), ("temporal", 800, args.sparse)):
        ts = time.perf_counter()
        A = (torch.rand(cfg.depth, 4, cfg.lora_rank, cfg.dim, device=dev) * 2 - 1) / cfg.dim ** 0.5
        B = torch.zeros(cfg.depth, 4, cfg.dim, cfg.lora_rank, device=dev)
        opt = torch.optim.AdamW([A, B], lr=3e-3, weight_decay=0)
        for s in range(steps):
            idx = torch.linspace(0, cfg.frames - 1, frames, device=dev).long()
            t = dict(base, x0=base["x0"][:, idx], noise=torch.randn_like(base["x0"][:, idx]), t=torch.rand(1, device=dev),
                     frame_pos=idx.float(), lora_A=A.detach(), lora_B=B.detach())
            if stage == "spatial":
                t["frozen_scale"] = torch.zeros(1, device=dev)
            names = ("x0", "noise", "t", "text", "text_mask", "frame_pos", "frozen_A", "frozen_B", "frozen_scale",
                     "lora_A", "lora_B", "lora_scale", "loss_weights")
            _, _, gA, gB = lora_train_step(lambda *a: w.model(*a, fast=True), *(t[k] for k in names))
            A.grad, B.grad = gA, gB
            torch.nn.utils.clip_grad_norm_([A, B], 1.0)
            opt.step()
        torch.cuda.synchronize()
        result[f"python_{stage}_s"] = time.perf_counter() - ts
    result["python_tune_s"] = time.perf_counter() - t0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
