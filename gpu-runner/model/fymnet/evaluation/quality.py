"""Quality of the base model, measured on held-out captions (colour/shape pairs training never saw).

- colour: foreground = pixels brighter than any background can be (max channel > 0.62; backgrounds
  are dark by construction); the mean foreground colour's nearest palette entry must be the prompted one.
- shape: a small CNN, trained here on object masks of rendered clips (blurred and noised so that it
  does not depend on the renderer's crisp edges), classifies each frame's foreground mask recentred
  on its centroid; the clip's shape is the argmax of the mean log-probability over its frames.
- persistence: frame-to-frame IoU of the foreground mask of the tracked object. Tracking is rigid:
  each frame's mask is aligned to the previous one's centroid and, since objects spin, rotation
  (the best of ±60° in 3° steps). The translation-only IoU is reported beside it.
- two objects: distinct palette colours each covering ≥ 6 px in a frame; the per-frame majority must be 2.
Each metric also runs on rendered ground-truth clips of the same captions: what the measurement
itself scores on perfect clips.

python -m fymnet.evaluation.quality --weights W.safetensors --out OUT [--n 128] [--samplers 20:4:1,40:6:2] [--seen]
A sampler is steps:guidance:shift (flow.schedule); the first is the one reported as primary.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

from fymnet.checkpoint import load_model
from fymnet.evaluation.masks import foreground, recentre
from fymnet.evaluation.shape_classifier import ShapeClassifier
from fymnet.flow import sample
from fymnet.media import grid, to_uint8, write_gif
from fymnet.vocab import OBJECT_COLOURS, SHAPES, SIZES
from fymnet.world.render import RGB, render
from fymnet.world.spec import SIZE, sample_spec

PALETTE = torch.tensor([RGB[c] for c in OBJECT_COLOURS])
SIZE_NAMES = SIZES + ["medium"]


def tracked_iou(fg: torch.Tensor, rotate: bool) -> torch.Tensor:
    """(N,F,H,W) bool -> (N,) mean IoU of consecutive masks after centroid (and rotation) alignment."""
    n, f = fg.shape[:2]
    m = recentre(fg.float().reshape(n * f, 1, SIZE, SIZE)).reshape(n, f, SIZE, SIZE)
    a, b = m[:, :-1] > 0.5, m[:, 1:]
    if not rotate:
        return _iou(a, b > 0.5).mean(1)
    best = torch.zeros(n, f - 1, device=fg.device)
    for deg in range(-60, 61, 3):
        r = math.radians(deg)
        theta = torch.tensor([[math.cos(r), -math.sin(r), 0.0], [math.sin(r), math.cos(r), 0.0]], device=fg.device)
        bb = b.reshape(-1, 1, SIZE, SIZE)
        g = F.affine_grid(theta.expand(bb.shape[0], 2, 3), list(bb.shape), align_corners=False)
        rb = F.grid_sample(bb, g, align_corners=False).reshape(n, f - 1, SIZE, SIZE) > 0.5
        best = torch.maximum(best, _iou(a, rb))
    return best.mean(1)


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    inter = (a & b).sum((2, 3)).float()
    union = (a | b).sum((2, 3)).float()
    # Two empty masks are the same (no object either time); flicker shows as one empty, one not.
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter))


def colour_of(clips: torch.Tensor, fg: torch.Tensor) -> list[str | None]:
    """Per clip, the palette colour nearest its mean foreground colour (None without foreground)."""
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


def evaluate(clips, specs, classifier: ShapeClassifier) -> dict:
    """The quality metrics of clips against the specs whose captions made them."""
    fg = foreground(clips)
    single = [i for i, s in enumerate(specs) if len(s.sprites) == 1]
    double = [i for i, s in enumerate(specs) if len(s.sprites) == 2]
    res: dict = {}
    if single:
        c, f = clips[single], fg[single]
        sp = [specs[i].sprites[0] for i in single]
        cols = colour_of(c, f)
        res["colour_accuracy"] = float(np.mean([cols[k] == s.colour for k, s in enumerate(sp)]))
        pred = classifier.predict(c).tolist()
        right = [SHAPES[p] == s.shape for p, s in zip(pred, sp)]
        res["shape_accuracy"] = float(np.mean(right))
        res["shape_accuracy_by_size"] = {
            name: float(np.mean([r for r, s in zip(right, sp) if (s.size or "medium") == name]))
            for name in SIZE_NAMES if any((s.size or "medium") == name for s in sp)}
        confusion: dict[str, dict[str, int]] = {}
        for p, s in zip(pred, sp):
            row = confusion.setdefault(s.shape, {})
            row[SHAPES[p]] = row.get(SHAPES[p], 0) + 1
        res["shape_confusion"] = confusion
        rigid, shift_only = tracked_iou(f, rotate=True), tracked_iou(f, rotate=False)
        res["tracked_iou_mean"] = float(rigid.mean())
        res["tracked_iou_translation_only"] = float(shift_only.mean())
        res["clips_with_iou_ge_0.8"] = float((rigid >= 0.8).float().mean())
        still = [k for k, s in enumerate(sp) if len(set(s.path)) == 1 and len(set(s.angle)) == 1]
        if still:
            res["still_objects_iou"] = float(shift_only[still].mean())
            res["still_clips"] = len(still)
        res["frames_without_object"] = float((f.sum((2, 3)) < 3).float().mean())
        res["single_clips"] = len(single)
    if double:
        counted = colours_per_frame(clips[double], fg[double])
        res["two_objects_rate"] = float(np.mean([n == 2 for n, _ in counted]))
        res["two_objects_colours_right"] = float(np.mean([
            seen == {s.colour for s in specs[i].sprites} for (_, seen), i in zip(counted, double)]))
        res["double_clips"] = len(double)
    return res


def parse_sampler(text: str) -> dict:
    """'steps:guidance:shift' -> the sampler's settings."""
    steps, guidance, shift = text.split(":")
    return {"steps": int(steps), "guidance": float(guidance), "shift": float(shift)}


def generate(model, specs, sampler: dict, seed: int, dev) -> torch.Tensor:
    """Clips for the specs' captions, sampled 64 at a time."""
    out = []
    for i in range(0, len(specs), 64):
        out.append(sample(model, [s.caption for s in specs[i:i + 64]], steps=sampler["steps"], guidance=sampler["guidance"],
                          shift=sampler["shift"], seed=seed + i, device=dev, autocast=dev.type == "cuda"))
    return torch.cat(out)


def table(rows: list[tuple[str, dict]]) -> str:
    """The report's Markdown table, one row per (weights, sampler)."""
    head = ("| sampler (steps:guidance:shift) | colour | shape | shape small/medium/big | tracked IoU (rigid) | IoU translation only"
            " | still objects IoU | two objects |\n")
    head += "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for name, r in rows:
        by = r.get("shape_accuracy_by_size", {})
        sizes = "/".join(f"{by[s]:.2f}" if s in by else "–" for s in ("small", "medium", "big"))
        head += (f"| {name} | {r['colour_accuracy']:.3f} | {r['shape_accuracy']:.3f} | "
                 f"{sizes} | "
                 f"{r['tracked_iou_mean']:.3f} | {r['tracked_iou_translation_only']:.3f} | {r.get('still_objects_iou', math.nan):.3f} | "
                 f"{r.get('two_objects_rate', math.nan):.3f} |\n")
    return head


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", help="weights.safetensors (default: ARTIFACTS/weights.safetensors)")
    ap.add_argument("--artifacts")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=128, help="single-object and multi-object captions each")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--samplers", default="20:4:1")
    ap.add_argument("--seen", action="store_true", help="also measure captions with pairs seen in training")
    ap.add_argument("--classifier-steps", type=int, default=4000)
    ap.add_argument("--no-gifs", action="store_true")
    args = ap.parse_args()
    weights = (args.weights or os.path.join(args.artifacts, "weights.safetensors")).split(",")
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    t0 = time.time()
    classifier = ShapeClassifier(dev, clips=12288 if dev.type == "cuda" else 1024, steps=args.classifier_steps)
    print(json.dumps({"classifier_frame_accuracy": classifier.frame_accuracy, "classifier_clip_accuracy": classifier.clip_accuracy,
                      "seconds": round(time.time() - t0, 1)}), flush=True)
    rng = random.Random(args.seed)
    specs = [sample_spec(rng, "single-object", held_out=True) for _ in range(args.n)]
    specs += [sample_spec(rng, "multiple-objects", held_out=True) for _ in range(args.n)]
    specs = [s for s in specs if len(s.sprites) <= 2]
    samplers = [parse_sampler(s) for s in args.samplers.split(",")]
    report = {"held_out_pairs": True, "samplers": samplers,
              "shape_classifier": {"frame_accuracy": classifier.frame_accuracy, "clip_accuracy": classifier.clip_accuracy},
              "ground_truth": evaluate(render(specs, dev), specs, classifier), "models": []}
    print(json.dumps({"ground_truth": report["ground_truth"]}), flush=True)
    name = lambda s: f"{s['steps']}:{s['guidance']:g}:{s['shift']:g}"  # noqa: E731
    label = lambda w: os.path.basename(os.path.dirname(os.path.abspath(w))) if len(weights) > 1 else ""  # noqa: E731
    rows = [("ground truth (rendered)", report["ground_truth"])]
    seen = []
    if args.seen:  # captions whose colour/shape pairs training saw: the control for held-out generalisation
        rng3 = random.Random(args.seed + 2)
        seen = [sample_spec(rng3, "single-object") for _ in range(args.n)]
        seen += [s for s in (sample_spec(rng3, "multiple-objects") for _ in range(args.n)) if len(s.sprites) <= 2]
    primary = first = None
    for w in weights:
        model, meta = load_model(w)
        model = model.to(dev)
        entry = {"weights": w, "steps": meta.get("steps"), "generated": []}
        for sm in samplers:
            t1 = time.time()
            gen = generate(model, specs, sm, args.seed, dev)
            r = {"sampler": sm, **evaluate(gen, specs, classifier), "seconds": round(time.time() - t1, 1)}
            entry["generated"].append(r)
            rows.append(((label(w) + " · " if label(w) else "") + name(sm), r))
            print(json.dumps({"weights": w, **r}), flush=True)
            if primary is None:
                primary, first = gen, model
        if seen:
            entry["seen_pairs"] = {"sampler": samplers[0], **evaluate(generate(model, seen, samplers[0], args.seed, dev), seen, classifier)}
            rows.append(((label(w) + " · " if label(w) else "") + name(samplers[0]) + " · seen pairs", entry["seen_pairs"]))
            print(json.dumps({"weights": w, "seen_pairs": entry["seen_pairs"]}), flush=True)
        report["models"].append(entry)
    models = ", ".join(f"`{e['weights']}` ({e['steps']} steps)" for e in report["models"])
    md = (f"# Base-model quality\n\n{models} · "
          f"held-out colour/shape pairs, {args.n} single-object and {args.n} multi-object captions (≤ 2 objects kept) · "
          f"shape classifier: {classifier.frame_accuracy:.3f} per frame, {classifier.clip_accuracy:.3f} per clip on rendered clips it did not train on\n\n")
    md += table(rows)
    report["markdown"] = md
    with open(os.path.join(args.out, "quality.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(args.out, "quality.md"), "w") as f:
        f.write(md)
    print(md, flush=True)
    if args.no_gifs:
        return
    # Samples for people: the first 8 single and 8 two-object clips, captions alongside.
    pick = list(range(8)) + [i for i, s in enumerate(specs) if len(s.sprites) == 2][:8]
    write_gif(os.path.join(args.out, "samples.gif"), grid(to_uint8(primary[pick]), 8, scale=3))
    report["sample_captions"] = [specs[i].caption for i in pick]
    # Samples from all four categories with seen captions, to show motion and humans too.
    rng2 = random.Random(args.seed + 1)
    mixed = [sample_spec(rng2, c) for c in ("single-object", "multiple-objects", "camera-motion", "human-motion") for _ in range(4)]
    mixed_gen = generate(first, mixed, samplers[0], 7, dev)
    write_gif(os.path.join(args.out, "samples_categories.gif"), grid(to_uint8(mixed_gen), 8, scale=3))
    report["category_captions"] = [s.caption for s in mixed]
    with open(os.path.join(args.out, "quality.json"), "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
