"""Pretraining on synthetic video generated on the fly (GPU machine).

python -m fymnet.training.pretrain --out DIR [--recipe recipes/pretrain.py --stage N] [--minutes M] [--lr LR] ...
(from gpu-runner/model). A flag overrides the recipe's value; the shipped recipe is recipes/pretrain.py.
--images K [--image-every N]: every Nth step trains on single frames, one from each of batch × K clips, as
large video models are co-trained on images: an image step costs what a video step costs (same token count)
but shows K times as many objects, and shape is what the model learns slowest.
Writes DIR/weights.safetensors (EMA weights rounded to fp16), DIR/train_log.json, DIR/loss.png.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import random
import time

import torch
import torch.nn.functional as F

from fymnet import safetensors_io
from fymnet.checkpoint import save_weights
from fymnet.flow import bf16, empty_tokens, logit_normal, tokens_for
from fymnet.media import line_chart
from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT
from fymnet.training.recipe import Recipe, load_recipe
from fymnet.world.render import render
from fymnet.world.spec import sample_spec


def _specs(task: tuple[int, int]) -> list:
    seed, n = task
    rng = random.Random(seed)
    return [sample_spec(rng) for _ in range(n)]


def spec_stream(seed: int, chunk: int, workers: int = 6, ahead: int = 12):
    """Clip descriptions from worker processes (the Python part of the world), so the GPU only renders.
    At most `ahead` chunks are in flight (Pool.imap would drain an endless task list eagerly).
    Chunk k is drawn from Random(seed * 1_000_003 + k): deterministic whatever the worker count."""
    import collections
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        task = lambda k: pool.apply_async(_specs, ((seed * 1_000_003 + k, chunk),))  # noqa: E731
        pending = collections.deque(task(k) for k in range(ahead))
        k = ahead
        while True:
            yield pending.popleft().get()
            pending.append(task(k))
            k += 1


def frame_subset(gen: torch.Generator, dev: torch.device, frames: int) -> torch.Tensor:
    """Frame indices of one sparse step: 4 or 8 frames, strided across the clip from a random offset (what
    sparse motion sampling draws), a random sorted set, or consecutive; the model sees them at these indices."""
    k = 4 if torch.rand(1, generator=gen, device=dev).item() < 0.5 else 8
    kind = torch.rand(1, generator=gen, device=dev).item()
    if kind < 0.6:
        stride = frames // k
        offset = int(torch.randint(0, stride, (1,), generator=gen, device=dev).item())
        return torch.arange(k, device=dev) * stride + offset
    if kind < 0.8:
        return torch.randperm(frames, generator=gen, device=dev)[:k].sort().values
    start = int(torch.randint(0, frames - k + 1, (1,), generator=gen, device=dev).item())
    return torch.arange(k, device=dev) + start


def pretrain(recipe: Recipe, out: str) -> dict:
    """Trains for the recipe's budget and writes the run to `out`; returns the weights' metadata."""
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(recipe.seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cfg = ModelConfig.tiny() if recipe.small else ModelConfig()
    model = VideoDiT(cfg)
    if recipe.init:
        tensors, _ = safetensors_io.load(recipe.init)
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    model = model.to(dev)
    # Eager mode is bound by elementwise kernels (LayerNorm, modulation, RoPE) at this size; compiling fuses them.
    forward = torch.compile(model) if recipe.compile and hasattr(torch, "compile") else model
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, betas=(0.9, 0.99), weight_decay=0.01,
                            **({"fused": True} if dev.type == "cuda" else {}))
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    pos = torch.arange(cfg.frames, device=dev, dtype=torch.float32)
    budget = recipe.minutes * 60
    start = time.time()
    log: list[dict] = []
    pool, pool_caps, cursor = None, [], 0
    specs = spec_stream(recipe.seed, recipe.batch * 16, workers=recipe.workers)
    pos_image = torch.zeros(1, device=dev)
    image_steps = subset_steps = 0
    ema_params, model_params = list(ema.parameters()), list(model.parameters())
    step, warmup = 0, 300 if not recipe.init else 100
    last_checkpoint = time.time()
    gen = torch.Generator(device=dev).manual_seed(recipe.seed)
    while True:
        elapsed = time.time() - start
        if elapsed > budget or (recipe.max_steps is not None and step >= recipe.max_steps):
            break
        if pool is None or cursor + recipe.batch > pool.shape[0]:
            # Render a pool of clips at once (vectorises better), reused for a few steps.
            chunk = next(specs)
            with torch.no_grad():
                pool, pool_caps = render(chunk, dev), [c.caption for c in chunk]
            cursor = 0
        image_step = recipe.images > 0 and step % recipe.image_every == recipe.image_every - 1
        if image_step:
            # One random frame from each of batch × K pool clips (the pool holds batch × 16).
            n_img = min(pool.shape[0], recipe.batch * recipe.images)
            frame = torch.randint(0, pool.shape[1], (n_img,), generator=gen, device=dev)
            x0 = pool[torch.arange(n_img, device=dev), frame][:, None]
            caps = pool_caps[:n_img]
            image_steps += 1
        else:
            x0 = pool[cursor:cursor + recipe.batch]
            caps = pool_caps[cursor:cursor + recipe.batch]
            cursor += recipe.batch
        frame_pos = pos_image if image_step else pos
        if not image_step and recipe.subsets > 0 and torch.rand(1, generator=gen, device=dev).item() < recipe.subsets:
            # A sparse step: the same frames for the whole batch, placed at their original indices.
            idx, subset_steps = frame_subset(gen, dev, cfg.frames), subset_steps + 1
            x0, frame_pos = x0[:, idx], idx.float()
        tokens = tokens_for(caps, dev)
        drop = torch.rand(len(caps), device=dev) < 0.1  # caption dropout: classifier-free guidance
        tokens = torch.where(drop[:, None], empty_tokens(len(caps), dev), tokens)
        t = logit_normal(len(caps), gen, dev)
        noise = torch.randn(x0.shape, generator=gen, device=dev)
        xt = (1 - t)[:, None, None, None, None] * x0 + t[:, None, None, None, None] * noise
        lr = recipe.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / budget))))
        for g in opt.param_groups:
            g["lr"] = lr
        with bf16(dev.type == "cuda"):
            text, mask = model.text(tokens)
            try:
                v = forward(xt, t, text, mask, frame_pos, None, fast=True)
            except Exception as e:  # noqa: BLE001 - a compiler failure must not lose the run
                if forward is model:
                    raise
                print(json.dumps({"compile_failed": str(e)[:500]}), flush=True)
                forward = model
                v = model(xt, t, text, mask, frame_pos, None, fast=True)
        loss = F.mse_loss(v.float(), noise - x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            if hasattr(torch, "_foreach_lerp_"):
                torch._foreach_lerp_(ema_params, model_params, 1 - decay)
            else:  # torch < 2.0 (CPU smoke tests)
                for pe, pm in zip(ema_params, model_params):
                    pe.lerp_(pm, 1 - decay)
        if time.time() - last_checkpoint > 120:
            # A device command is killed at its time limit: keep recent weights where they come back.
            save_weights(ema, os.path.join(out, "weights.safetensors"), {"model": "fym-tiny-dit", "config": cfg.to_dict(),
                                                                       "steps": step, "partial": True})
            last_checkpoint = time.time()
        if step % 100 == 0:
            log.append({"step": step, "seconds": round(elapsed, 1), "loss": loss.item(), "lr": lr, **({"image": True} if image_step else {})})
            if step % 1000 == 0:
                print(json.dumps(log[-1]), flush=True)
        step += 1
    meta = {"config": cfg.to_dict(), "steps": step, "image_steps": image_steps, "images": recipe.images, "image_every": recipe.image_every,
            "subsets": recipe.subsets, "subset_steps": subset_steps, "lr": recipe.lr,
            "init": recipe.init, "compiled": forward is not model, "seconds": round(time.time() - start, 1), "seed": recipe.seed,
            "batch": recipe.batch, "final_loss": log[-1]["loss"] if log else None}
    save_weights(ema, os.path.join(out, "weights.safetensors"), {"model": "fym-tiny-dit", **meta})
    with open(os.path.join(out, "train_log.json"), "w") as f:
        json.dump({**meta, "log": log}, f)
    # Smooth the per-100-step losses for the chart (single-batch losses are noisy).
    pts = [(e["step"], e["loss"]) for e in log if not e.get("image")]
    smooth = [(pts[i][0], sum(p[1] for p in pts[max(0, i - 4):i + 1]) / len(pts[max(0, i - 4):i + 1])) for i in range(len(pts))]
    line_chart(os.path.join(out, "loss.png"), {"loss": smooth})
    print(json.dumps({k: v for k, v in meta.items() if k != "config"}), flush=True)
    return meta


def parse_args(argv: list[str] | None = None) -> tuple[Recipe, str]:
    """The recipe and output folder a command line asks for: the recipe file's stage, then the flags."""
    ap = argparse.ArgumentParser(prog="python -m fymnet.training.pretrain")
    ap.add_argument("--out", required=True)
    # --config is the flag's earlier name, still read.
    ap.add_argument("--recipe", "--config", dest="recipe_file", help="a recipe file (recipes/pretrain.py); flags below override its values")
    ap.add_argument("--stage", type=int, help="which of the recipe file's stages to run")
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--init", help="continue from these weights (a previous run's EMA weights)")
    ap.add_argument("--compile", action="store_true", default=None, help="torch.compile the denoiser (falls back to eager on failure)")
    ap.add_argument("--images", type=int, help="an image step takes one frame from each of batch × K clips (0: video only)")
    ap.add_argument("--image-every", type=int, help="every Nth step is an image step")
    ap.add_argument("--workers", type=int, help="processes sampling clip descriptions")
    ap.add_argument("--small", action="store_true", default=None, help="a tiny model for smoke tests")
    ap.add_argument("--max-steps", type=int, help="stop after this many steps even if time is left")
    ap.add_argument("--subsets", type=float, help="share of video steps on a sparse frame subset (4 or 8 frames at their original indices)")
    args = vars(ap.parse_args(argv))
    out, recipe_file, stage = args.pop("out"), args.pop("recipe_file"), args.pop("stage")
    recipe = load_recipe(recipe_file, stage) if recipe_file else Recipe()
    recipe = dataclasses.replace(recipe, **{k: v for k, v in args.items() if v is not None})
    if not 0 <= recipe.subsets <= 1:
        ap.error(f"--subsets is a share of video steps, 0 to 1; got {recipe.subsets}")
    return recipe, out


def main() -> None:
    pretrain(*parse_args())


if __name__ == "__main__":
    main()
