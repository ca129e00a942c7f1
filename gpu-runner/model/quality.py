"""Quality of the base model, measured on held-out captions (colour/shape pairs training never saw).

- colour: foreground = pixels brighter than any background can be (max channel > 0.62; backgrounds
  are dark by construction); the mean foreground colour's nearest palette entry must be the prompted one.
- shape: a small CNN trained here on rendered object masks classifies each frame's foreground mask;
  the majority over frames must be the prompted shape.
- persistence: frame-to-frame IoU of the foreground mask after aligning centroids (tracking).
- two objects: distinct palette colours each covering ≥ 6 px in a frame; the per-frame majority must be 2.
Each metric is also run on rendered ground-truth clips, to show what the measurement itself scores.

python3 quality.py --artifacts DIR --out OUT [--n 64]
"""
from __future__ import annotations

import argparse
import json
import os
import random

import numpy as np
import torch
import torch.nn.functional as F

from export import load_model
from flow import sample
from media import grid, to_uint8, write_gif
from vocab import OBJECT_COLOURS, SHAPES
from world import RGB, SIZE, render, sample_spec

PALETTE = torch.tensor([RGB[c] for c in OBJECT_COLOURS])


def foreground(clips: torch.Tensor) -> torch.Tensor:
    """(N,F,3,H,W) in [-1,1] -> (N,F,H,W) bool."""
    x = (clips + 1) / 2
    return x.max(2).values > 0.62


def soft_foreground(clips: torch.Tensor) -> torch.Tensor:
    """(N,F,3,H,W) -> (N,F,H,W) in [0,1]: how far a pixel is above the brightest background."""
    return (((clips + 1) / 2).max(2).values - 0.5).div(0.3).clamp(0, 1)


def train_shape_classifier(dev, steps: int = 3000, seed: int = 0):
    rng = random.Random(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(64, len(SHAPES))).to(dev)
    opt = torch.optim.Adam(net.parameters(), 2e-3)

    def batch(n):
        specs = [sample_spec(rng, "single-object") for _ in range(n)]
        clips = render(specs, dev)
        f = torch.randint(0, clips.shape[1], (n,), device=dev)
        masks = soft_foreground(clips)[torch.arange(n, device=dev), f][:, None]
        # Recentre the mask at its centroid: shape, not position, is what is classified.
        return recentre(masks), torch.tensor([SHAPES.index(s.sprites[0].shape) for s in specs], device=dev)

    for _ in range(steps):
        x, y = batch(128)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        x, y = batch(1024)
        acc = (net(x).argmax(1) == y).float().mean().item()
    return net, acc


def recentre(masks: torch.Tensor) -> torch.Tensor:
    """(N,1,H,W) masks shifted so their centroid sits at the centre."""
    n = masks.shape[0]
    ys, xs = torch.meshgrid(torch.arange(SIZE, device=masks.device), torch.arange(SIZE, device=masks.device), indexing="ij")
    w = masks[:, 0].sum((1, 2)).clamp_min(1)
    cy = (masks[:, 0] * ys).sum((1, 2)) / w
    cx = (masks[:, 0] * xs).sum((1, 2)) / w
    theta = torch.zeros(n, 2, 3, device=masks.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = (cx - (SIZE - 1) / 2) / (SIZE / 2)
    theta[:, 1, 2] = (cy - (SIZE - 1) / 2) / (SIZE / 2)
    g = F.affine_grid(theta, masks.shape, align_corners=False)
    return F.grid_sample(masks, g, align_corners=False)


def tracked_iou(fg: torch.Tensor) -> torch.Tensor:
    """(N,F,H,W) bool -> (N,) mean IoU of consecutive masks after centroid alignment."""
    n, f = fg.shape[:2]
    m = recentre(fg.float().reshape(n * f, 1, SIZE, SIZE)).reshape(n, f, SIZE, SIZE) > 0.5
    inter = (m[:, 1:] & m[:, :-1]).sum((2, 3)).float()
    union = (m[:, 1:] | m[:, :-1]).sum((2, 3)).float().clamp_min(1)
    return (inter / union).mean(1)


def colour_of(clips: torch.Tensor, fg: torch.Tensor) -> list[str | None]:
    x = ((clips + 1) / 2).permute(0, 1, 3, 4, 2)  # N,F,H,W,3
    out = []
    for i in range(x.shape[0]):
        px = x[i][fg[i]]
        if px.shape[0] == 0:
            out.append(None)
            continue
        d = ((px.mean(0)[None] - PALETTE.to(px.device)) ** 2).sum(1)
        out.append(OBJECT_COLOURS[int(d.argmin())])
    return out


def colours_per_frame(clips: torch.Tensor, fg: torch.Tensor, min_px: int = 6) -> list[tuple[int, set[str]]]:
    """Per clip: the majority count of distinct palette colours per frame, and the colours seen."""
    x = ((clips + 1) / 2).permute(0, 1, 3, 4, 2)
    pal = PALETTE.to(x.device)
    out = []
    for i in range(x.shape[0]):
        counts, seen = [], set()
        for f in range(x.shape[1]):
            px = x[i, f][fg[i, f]]
            if px.shape[0] == 0:
                counts.append(0)
                continue
            nearest = ((px[:, None] - pal[None]) ** 2).sum(2).argmin(1)
            hist = torch.bincount(nearest, minlength=len(OBJECT_COLOURS))
            present = {OBJECT_COLOURS[j] for j in range(len(OBJECT_COLOURS)) if hist[j] >= min_px}
            counts.append(len(present))
            seen |= present
        out.append((max(set(counts), key=counts.count), seen))
    return out


def evaluate(clips, specs, classifier) -> dict:
    fg = foreground(clips)
    single = [i for i, s in enumerate(specs) if len(s.sprites) == 1]
    double = [i for i, s in enumerate(specs) if len(s.sprites) == 2]
    res: dict = {}
    if single:
        c = clips[single]
        f = fg[single]
        soft = soft_foreground(c)
        cols = colour_of(c, f)
        res["colour_accuracy"] = float(np.mean([cols[k] == specs[i].sprites[0].colour for k, i in enumerate(single)]))
        n, fr = f.shape[:2]
        with torch.no_grad():
            pred = classifier(recentre(soft.reshape(n * fr, 1, SIZE, SIZE))).argmax(1).reshape(n, fr)
        votes = [SHAPES[int(torch.mode(pred[k]).values)] for k in range(n)]
        res["shape_accuracy"] = float(np.mean([votes[k] == specs[i].sprites[0].shape for k, i in enumerate(single)]))
        iou = tracked_iou(f)
        res["tracked_iou_mean"] = float(iou.mean())
        res["clips_with_iou_ge_0.8"] = float((iou >= 0.8).float().mean())
        res["frames_without_object"] = float((f.sum((2, 3)) < 3).float().mean())
        res["single_clips"] = len(single)
    if double:
        counted = colours_per_frame(clips[double], fg[double])
        res["two_objects_rate"] = float(np.mean([n == 2 for n, _ in counted]))
        res["two_objects_colours_right"] = float(np.mean([
            seen == {s.colour for s in specs[i].sprites} for (_, seen), i in zip(counted, double)]))
        res["double_clips"] = len(double)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, _ = load_model(os.path.join(args.artifacts, "weights.safetensors"))
    model = model.to(dev)
    classifier, cls_acc = train_shape_classifier(dev)
    rng = random.Random(args.seed)
    specs = [sample_spec(rng, "single-object", held_out=True) for _ in range(args.n)]
    specs += [sample_spec(rng, "multiple-objects", held_out=True) for _ in range(args.n)]
    specs = [s for s in specs if len(s.sprites) <= 2]
    truth = render(specs, dev)
    gen = []
    for i in range(0, len(specs), 32):
        gen.append(sample(model, [s.caption for s in specs[i:i + 32]], steps=20, guidance=4.0, seed=args.seed + i,
                          device=dev, autocast=dev.type == "cuda"))
    gen = torch.cat(gen)
    report = {"held_out_pairs": True, "sampler": "Euler, 20 steps, guidance 4", "shape_classifier_accuracy": cls_acc,
              "generated": evaluate(gen, specs, classifier), "ground_truth": evaluate(truth, specs, classifier)}
    # Samples for people: the first 8 single and 8 two-object clips, captions alongside.
    pick = list(range(8)) + [i for i, s in enumerate(specs) if len(s.sprites) == 2][:8]
    write_gif(os.path.join(args.out, "samples.gif"), grid(to_uint8(gen[pick]), 8, scale=3))
    report["sample_captions"] = [specs[i].caption for i in pick]
    # Samples from all four categories with seen captions, to show motion and humans too.
    rng2 = random.Random(args.seed + 1)
    mixed = [sample_spec(rng2, c) for c in ("single-object", "multiple-objects", "camera-motion", "human-motion") for _ in range(4)]
    mixed_gen = sample(model, [s.caption for s in mixed], steps=20, guidance=4.0, seed=7, device=dev, autocast=dev.type == "cuda")
    write_gif(os.path.join(args.out, "samples_categories.gif"), grid(to_uint8(mixed_gen), 8, scale=3))
    report["category_captions"] = [s.caption for s in mixed]
    with open(os.path.join(args.out, "quality.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: v for k, v in report.items() if "captions" not in k}), flush=True)


if __name__ == "__main__":
    main()
