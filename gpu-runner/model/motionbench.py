"""MotionBench reference clips: two per category, rendered by the synthetic world with motions the
captions cannot express, plus new prompts for transfer. Writes uint8 clips (F, H, W, 3) raw and a JSON
index; small enough to commit (48 KiB a clip).

python3 motionbench.py --out ../artifacts/motionbench
"""
from __future__ import annotations

import argparse
import json
import os
import random

from media import to_uint8
from world import CATEGORIES, render, sample_spec, strip_motion


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    index = []
    for cat in CATEGORIES:
        kept = 0
        while kept < 2:
            spec = sample_spec(rng, cat)
            # A reference must travel (a path to transfer, not a spin in place).
            first = spec.sprites[0]
            travel = max(abs(a - b) for p, q in zip(first.path, first.path[1:]) for a, b in zip(p, q))
            span = max(max(c) - min(c) for c in zip(*first.path))
            if cat in ("single-object", "multiple-objects") and (span < 8 or travel < 0.5):
                continue
            clip = to_uint8(render([spec]))[0]
            name = f"{cat}-{kept + 1}"
            with open(os.path.join(args.out, f"{name}.rgb"), "wb") as f:
                f.write(clip.tobytes())
            # New prompts: same category, other appearance.
            others = [strip_motion(sample_spec(rng, cat).caption) for _ in range(2)]
            index.append({"name": name, "category": cat, "file": f"{name}.rgb", "shape": list(clip.shape),
                          "caption": strip_motion(spec.caption), "new_prompts": others,
                          "truth": {"paths": [sp.path for sp in spec.sprites], "camera": spec.camera}})
            kept += 1
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"format": "raw uint8 RGB, frames x height x width x 3", "seed": args.seed, "clips": index}, f, indent=1)


if __name__ == "__main__":
    main()
