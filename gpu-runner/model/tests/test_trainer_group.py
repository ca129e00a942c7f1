"""The torch process's batched LoRA trainer: LoRAs trained together, with one or several samples a step,
equal the same LoRAs trained alone (the counter-based noise depends only on each sample's seed)."""
from __future__ import annotations

import torch

from fymnet.training.trainer_group import TrainerGroup

HP = {"weight_decay": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "clip_norm": 1.0}
FRAMES = 2


def init_tensors(cfg, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    a = (n, cfg.depth, 4, cfg.lora_rank, cfg.dim)
    b = (n, cfg.depth, 4, cfg.dim, cfg.lora_rank)
    return {
        "clips": torch.randn(n, 4, 3, cfg.size, cfg.size, generator=gen),
        "text": torch.randn(n, cfg.max_tokens, cfg.text_dim, generator=gen),
        "text_mask": torch.ones(n, cfg.max_tokens),
        "frozen_A": torch.randn(*a, generator=gen) * 0.05, "frozen_B": torch.randn(*b, generator=gen) * 0.05,
        "frozen_scale": torch.ones(n),
        "lora_A": torch.randn(*a, generator=gen) * 0.05, "lora_B": torch.zeros(*b),
        "lora_scale": torch.ones(n),
        "mask_A": torch.ones(*a), "mask_B": torch.ones(*b),
        "lr": torch.full((n,), 1e-2), "warmup_steps": torch.zeros(n),
        "loss_weights": torch.tensor([[1.0, 0.0]] * n),
    }


def steps_for(samples: list[int], step: int) -> dict[str, torch.Tensor]:
    """Each LoRA's samples, one after another; a sample's draws depend only on (LoRA, sample, step)."""
    rows = [(i, j) for i, k in enumerate(samples) for j in range(k)]
    g = lambda i, j: torch.Generator().manual_seed(1000 * step + 10 * i + j)  # noqa: E731
    return {
        "frames": torch.stack([torch.randperm(4, generator=g(i, j))[:FRAMES] for i, j in rows]).float(),
        "frame_pos": torch.tensor([[0.0, 1.0]] * len(rows)),
        "t": torch.stack([torch.rand(1, generator=g(i, j))[0] for i, j in rows]),
        "seeds": torch.tensor([7919 * step + 31 * i + j for i, j in rows]),
    }


def pick(t: dict[str, torch.Tensor], i: int) -> dict[str, torch.Tensor]:
    return {k: (v[i:i + 1] if k not in ("frames", "frame_pos", "t", "seeds") else v) for k, v in t.items()}


def test_loras_with_several_samples_a_step_trained_together_equal_each_alone(tiny_model):
    cfg = tiny_model.cfg
    fwd = lambda *a: tiny_model(*a, fast=False)  # noqa: E731
    full = init_tensors(cfg, 2, torch.Generator().manual_seed(0))
    samples = [2, 1]
    together = TrainerGroup(fwd, {**full, "samples": torch.tensor(samples, dtype=torch.float32)}, HP)
    assert together.samples == 3
    alone = [TrainerGroup(fwd, {**pick(full, i), "samples": torch.tensor([float(k)])}, HP) for i, k in enumerate(samples)]
    for step in range(3):
        s = steps_for(samples, step)
        out = together.step(s)
        for i, k in enumerate(samples):
            at = sum(samples[:i])
            mine = {key: v[at:at + k] for key, v in s.items()}
            one = alone[i].step(mine)
            torch.testing.assert_close(out["loss"][i:i + 1], one["loss"], rtol=1e-4, atol=1e-6)
    # Batched and single matmuls sum in different orders (OpenBLAS differs from generic BLAS here), and AdamW's
    # first steps move a weight by ≈ lr whatever its gradient's size, so a near-zero gradient's rounding can
    # move a weight by 1e-5: weights are compared at 5e-5, far below the ≈ lr a mixed-up sample would cost.
    for i in range(2):
        torch.testing.assert_close(together.A[i], alone[i].A[0], rtol=1e-3, atol=5e-5)
        torch.testing.assert_close(together.B[i], alone[i].B[0], rtol=1e-3, atol=5e-5)
    assert not torch.equal(together.B[0], torch.zeros_like(together.B[0])), "the LoRAs trained"


def test_one_sample_each_is_the_trainer_as_before(tiny_model):
    cfg = tiny_model.cfg
    fwd = lambda *a: tiny_model(*a, fast=False)  # noqa: E731
    full = init_tensors(cfg, 2, torch.Generator().manual_seed(1))
    plain = TrainerGroup(fwd, full, HP)
    ones = TrainerGroup(fwd, {**full, "samples": torch.ones(2)}, HP)
    assert ones.rows is None and ones.samples == 2
    s = steps_for([1, 1], 0)
    torch.testing.assert_close(plain.step(s)["loss"], ones.step(s)["loss"], rtol=0, atol=0)
    torch.testing.assert_close(plain.A, ones.A, rtol=0, atol=0)
