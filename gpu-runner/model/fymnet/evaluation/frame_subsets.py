"""How well the base model denoises sparse frame subsets (issue 17: why sparse motion sampling loses
the motion). For each clip, timestep and noise, the flow-matching loss on the *same* target frames is
measured twice: inside the full 16-frame clip, and as the subset a sparse temporal step trains on
(strided or consecutive frames, with adaptive RoPE's original indices or renumbered positions). A
subset loss far above the same frames' full-clip loss means sparse steps fit a domain the model
never learned, so what the LoRA learns there is not the motion it needs at 16 frames.

python -m fymnet.evaluation.frame_subsets --weights W [--weights W2 ...] --out FILE.json [--clips N]
(from gpu-runner/model; CPU is enough: forward passes only).
"""
from __future__ import annotations

import argparse
import json
import random
import time

import torch

from fymnet.checkpoint import load_model
from fymnet.flow import tokens_for
from fymnet.world.render import render
from fymnet.world.spec import CATEGORIES, FRAMES, sample_spec

# name -> (frame indices given an offset, whether RoPE keeps the original indices)
SUBSETS = {
    "strided4-adaptive": (lambda o: [o, o + 4, o + 8, o + 12], True),
    "strided4-plain": (lambda o: [o, o + 4, o + 8, o + 12], False),
    "window4-adaptive": (lambda o: [o * 4, o * 4 + 1, o * 4 + 2, o * 4 + 3], True),
    "strided8-adaptive": (lambda o: list(range(o % 2, 16, 2)), True),
    "single-frame": (lambda o: [o * 4], False),
}
TIMESTEPS = (0.25, 0.5, 0.75, 0.9)


@torch.no_grad()
def measure(weights: str, clips: int, seed: int, batch: int = 16) -> dict:
    """Mean loss per subset kind and timestep: on the subset alone, and on the same frames in the full clip."""
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, _ = load_model(weights)
    model = model.to(dev)
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    sums: dict[str, dict[str, list[float]]] = {k: {str(t): [] for t in TIMESTEPS} for k in [*SUBSETS, "full"]}
    ref: dict[str, dict[str, list[float]]] = {k: {str(t): [] for t in TIMESTEPS} for k in SUBSETS}
    per_cat: dict[str, dict[str, list[float]]] = {c: {"full": [], "strided4-adaptive": []} for c in CATEGORIES}
    pos_full = torch.arange(FRAMES, dtype=torch.float32, device=dev)
    for start in range(0, clips, batch):
        specs = [sample_spec(rng) for _ in range(min(batch, clips - start))]
        x0 = render(specs, dev)
        text, mask = model.text(tokens_for([s.caption for s in specs], dev))
        n = x0.shape[0]
        for t in TIMESTEPS:
            noise = torch.randn(x0.shape, generator=gen).to(dev)
            tt = torch.full((n,), t, device=dev)
            xt = (1 - t) * x0 + t * noise
            v_full = model(xt, tt, text, mask, pos_full, None, fast=True)
            err_full = ((v_full - (noise - x0)) ** 2).mean(dim=(2, 3, 4))  # (n, F)
            sums["full"][str(t)].append(err_full.mean().item())
            for name, (frames_of, adaptive) in SUBSETS.items():
                idx = frames_of(rng.randrange(4))
                pos = torch.tensor(idx, dtype=torch.float32, device=dev) if adaptive else torch.arange(len(idx), dtype=torch.float32, device=dev)
                v = model(xt[:, idx], tt, text, mask, pos, None, fast=True)
                err = ((v - (noise - x0)[:, idx]) ** 2).mean(dim=(2, 3, 4))  # (n, k)
                sums[name][str(t)].append(err.mean().item())
                ref[name][str(t)].append(err_full[:, idx].mean().item())
                if name == "strided4-adaptive" and t == 0.75:
                    for i, s in enumerate(specs):
                        per_cat[s.category]["full"].append(err_full[i, idx].mean().item())
                        per_cat[s.category]["strided4-adaptive"].append(err[i].mean().item())
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    out = {"weights": weights, "clips": clips, "seed": seed, "timesteps": list(TIMESTEPS), "full": {t: mean(v) for t, v in sums["full"].items()}}
    for name in SUBSETS:
        out[name] = {t: {"subset": mean(sums[name][t]), "same_frames_in_full_clip": mean(ref[name][t]),
                         "ratio": mean(sums[name][t]) / mean(ref[name][t])} for t in sums[name]}
    out["by_category_t0.75"] = {c: {k: mean(v) for k, v in d.items()} for c, d in per_cat.items() if d["full"]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m fymnet.evaluation.frame_subsets")
    ap.add_argument("--weights", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--clips", type=int, default=128)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    results = []
    for w in args.weights:
        t0 = time.time()
        r = measure(w, args.clips, args.seed, args.batch)
        r["seconds"] = round(time.time() - t0, 1)
        results.append(r)
        print(json.dumps({k: v for k, v in r.items() if k not in ("by_category_t0.75",)}, indent=1), flush=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
