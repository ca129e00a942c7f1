"""The synthetic world replays from its seeds: MotionBench's committed cases (descriptions, ground
truth and rendered bytes) come out of the world exactly as they were written."""
from __future__ import annotations

import gzip
import json
import random

import pytest
import torch

from conftest import ARTIFACTS
from fymnet.evaluation.motionbench import cases
from fymnet.vocab import INDEX
from fymnet.world.render import render
from fymnet.world.spec import CATEGORIES, FRAMES, HELD_OUT, SIZE, sample_spec

BENCH = ARTIFACTS / "motionbench"


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads((BENCH / "index.json").read_text())


@pytest.fixture(scope="module")
def replayed(committed) -> list:
    return list(cases(committed["seed"]))


def test_motionbench_cases_replay_their_committed_captions_prompts_and_truth(committed, replayed):
    # Through JSON, as the index was written: tuples become lists, floats keep their repr.
    assert [json.loads(json.dumps(entry)) for entry, _ in replayed] == committed["clips"]


def test_motionbench_clips_replay_to_the_committed_pixels(replayed):
    # Byte for byte under the PyTorch that wrote them (Debian's 1.13); another build's float kernels may
    # round a few antialiased edge pixels the other way (PyTorch 2.11 on the GPU machine: one clip), so
    # a pixel may move one level, and only a handful of them.
    for entry, clip in replayed:
        committed = torch.frombuffer(bytearray(gzip.decompress((BENCH / entry["file"]).read_bytes())), dtype=torch.uint8)
        diff = (torch.frombuffer(bytearray(clip.tobytes()), dtype=torch.uint8).int() - committed.int()).abs()
        assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-3, (entry["name"], int(diff.max()), int((diff > 0).sum()))


def test_a_seed_gives_the_same_clip_descriptions_every_time():
    first = [sample_spec(random.Random(7)) for _ in range(3)]
    assert first == [sample_spec(random.Random(7)) for _ in range(3)]


def test_captions_use_only_the_vocabulary_and_training_never_draws_held_out_pairs():
    rng = random.Random(0)
    for _ in range(400):
        spec = sample_spec(rng)
        assert spec.category in CATEGORIES
        assert all(word in INDEX for word in spec.caption.split()), spec.caption
        assert not {(s.colour, s.shape) for s in spec.sprites} & HELD_OUT


def test_render_gives_clips_in_the_model_range():
    rng = random.Random(1)
    clips = render([sample_spec(rng, c) for c in CATEGORIES])
    assert clips.shape == (len(CATEGORIES), FRAMES, 3, SIZE, SIZE)
    assert clips.min() >= -1 and clips.max() <= 1
    assert torch.isfinite(clips).all()
