"""A pretraining recipe: the values one training run reads, from a recipe file of plain Python values
(gpu-runner/model/recipes/pretrain.py, as nanoGPT's config/) and then the command line."""
from __future__ import annotations

import os
import runpy
from dataclasses import dataclass, fields


@dataclass
class Recipe:
    """One training run's values; the defaults are pretrain's own, the shipped ones are in recipes/pretrain.py."""

    minutes: float = 7.0  # wall-clock budget; the learning rate's cosine decay spans it
    batch: int = 64
    lr: float = 4e-4
    seed: int = 0
    init: str | None = None  # continue from these weights (a previous run's EMA weights)
    compile: bool = False  # torch.compile the denoiser (falls back to eager on failure)
    images: int = 0  # an image step takes one frame from each of batch × K clips (0: video only)
    image_every: int = 3  # every Nth step is an image step
    workers: int = 6  # processes sampling clip descriptions
    small: bool = False  # ModelConfig.tiny(), for smoke tests
    max_steps: int | None = None  # stop after this many steps even if time is left (smoke tests)
    # Share of video steps that train on a sparse frame subset (4 or 8 frames, strided or consecutive,
    # RoPE at their original indices), as FYM's sparse temporal steps see clips; 0: full clips only.
    # Issue 17: the shipped weights denoise a 4-frame strided subset at 1.5–2.0x the loss of the same
    # frames inside the whole clip (fymnet.evaluation.frame_subsets, gpu-runner/evaluation/experiments/2026-12-03-frame-subsets).
    subsets: float = 0.0


def load_recipe(path: str, stage: int | None = None) -> Recipe:
    """The recipe a recipe file gives: its top-level values, then those of `stage` (its `stages`
    dict). A relative `init` is relative to the recipe file."""
    values = {k: v for k, v in runpy.run_path(path).items() if not k.startswith("_")}
    stages = values.pop("stages", {})
    if stage is not None or stages:
        if stage not in stages:
            raise ValueError(f"{path} has stages {sorted(stages)}; pick one (got {stage})")
        values.update(stages[stage])
    unknown = sorted(set(values) - {f.name for f in fields(Recipe)})
    if unknown:
        raise ValueError(f"{path}: {unknown} are not recipe values")
    if values.get("init"):
        values["init"] = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), values["init"]))
    return Recipe(**values)
