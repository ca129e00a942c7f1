"""Pretraining: two steps of the tiny model write weights that reload, and the shipped recipe file
holds the values that made the shipped weights."""
from __future__ import annotations

import json
import os
from dataclasses import replace

import torch

from conftest import ARTIFACTS
from fymnet.checkpoint import load_model
from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT
from fymnet.training.pretrain import parse_args, pretrain
from fymnet.training.recipe import Recipe, load_recipe

MODEL_DIR = ARTIFACTS.parent / "model"
RECIPE = str(MODEL_DIR / "recipes" / "pretrain.py")


def test_two_steps_of_the_tiny_model_write_weights_that_reload(tmp_path):
    # images=1, image_every=2: step 0 is a video step, step 1 an image step.
    recipe = Recipe(small=True, batch=2, workers=1, images=1, image_every=2, max_steps=2, minutes=5)
    meta = pretrain(recipe, str(tmp_path))
    assert meta["steps"] == 2 and meta["image_steps"] == 1
    model, saved = load_model(str(tmp_path / "weights.safetensors"))
    assert model.cfg == ModelConfig.tiny()
    assert list(model.state_dict()) == list(VideoDiT(ModelConfig.tiny()).state_dict())
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    assert json.loads(saved["steps"]) == 2 and json.loads(saved["batch"]) == 2
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["steps"] == 2 and log["log"][0]["step"] == 0
    assert (tmp_path / "loss.png").stat().st_size > 0


def test_the_recipe_file_holds_the_values_of_the_runs_that_made_the_shipped_weights():
    manifest = json.loads((ARTIFACTS / "manifest.json").read_text())
    for stage, run in ((1, "pretrain4"), (2, "pretrain4b")):
        recipe = load_recipe(RECIPE, stage)
        logged = json.loads((MODEL_DIR / "runs" / run / "train_log.json").read_text())
        assert (recipe.lr, recipe.seed, recipe.batch, recipe.images, recipe.image_every, recipe.compile) == \
            (logged["lr"], logged["seed"], logged["batch"], logged["images"], logged["image_every"], logged["compiled"])
        assert abs(recipe.minutes * 60 - logged["seconds"]) < 30
        assert (recipe.init is None) == (logged["init"] is None)
    last = load_recipe(RECIPE, 2)
    assert last.init == os.path.normpath(ARTIFACTS / "weights.safetensors")
    assert (last.seed, last.batch) == (manifest["training"]["seed"], manifest["training"]["batch"])


def test_flags_override_the_recipe_file_and_the_rest_is_kept():
    recipe, out = parse_args(["--out", "/tmp/x", "--recipe", RECIPE, "--stage", "1", "--minutes", "1", "--small"])
    assert parse_args(["--out", "/tmp/x", "--config", RECIPE, "--stage", "1", "--minutes", "1", "--small"])[0] == recipe, "--config still reads a recipe"
    assert out == "/tmp/x"
    assert recipe == replace(load_recipe(RECIPE, 1), minutes=1.0, small=True)
    assert parse_args(["--out", "/tmp/x"])[0] == Recipe()


def test_subset_steps_train_on_sparse_frames_at_their_original_indices(tmp_path):
    from fymnet.training.pretrain import frame_subset

    gen = torch.Generator().manual_seed(0)
    kinds = set()
    for _ in range(200):
        idx = frame_subset(gen, torch.device("cpu"), 16)
        assert len(idx) in (4, 8) and idx.min() >= 0 and idx.max() < 16
        steps = set((idx[1:] - idx[:-1]).tolist())
        assert min(steps) >= 1  # distinct and in order
        kinds.add("consecutive" if steps == {1} else "strided" if steps == {16 // len(idx)} else "random")
    assert kinds == {"consecutive", "strided", "random"}
    meta = pretrain(Recipe(small=True, batch=2, workers=1, max_steps=3, minutes=5, subsets=1.0), str(tmp_path))
    assert meta["steps"] == 3 and meta["subset_steps"] == 3


def test_a_subsets_share_outside_0_to_1_is_refused_before_training(capsys):
    import pytest

    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--subsets", "1.5"])
    assert "--subsets is a share of video steps, 0 to 1; got 1.5" in capsys.readouterr().err
