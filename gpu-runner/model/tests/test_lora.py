"""LoRA slot math: what a slot adds to a projection, that an empty slot changes nothing, and that N
LoRAs trained in one batch get exactly the gradients and noise each would get alone."""
from __future__ import annotations

import torch
from torch import nn

from fymnet.graphs import lora_train_step, lora_train_step_many
from fymnet.network.lora import lora_linear, zero_lora
from fymnet.training.noise import seeded_normals


def lora_tensors(cfg, gen: torch.Generator, *lead: int):
    A = torch.randn(*lead, cfg.depth, 4, cfg.lora_rank, cfg.dim, generator=gen) * 0.05
    B = torch.randn(*lead, cfg.depth, 4, cfg.dim, cfg.lora_rank, generator=gen) * 0.05
    return A, B


def inputs(model, n: int, frames: int, gen: torch.Generator):
    cfg = model.cfg
    x = torch.randn(n, frames, 3, cfg.size, cfg.size, generator=gen)
    text, mask = model.text(torch.randint(2, cfg.vocab, (n, cfg.max_tokens), generator=gen))
    return x, text.detach(), mask


def test_a_slot_adds_scale_times_b_of_a_of_x_to_its_projection():
    gen = torch.Generator().manual_seed(0)
    layer = nn.Linear(16, 16)
    x = torch.randn(3, 5, 16, generator=gen)
    A, B = torch.randn(2, 2, 4, 4, 16, generator=gen), torch.randn(2, 2, 4, 16, 4, generator=gen)
    scale = torch.tensor([0.5, -2.0])
    got = lora_linear(x, layer, (A, B, scale), block=1, proj=2)
    want = layer(x) + sum(scale[s] * (x @ A[s, 1, 2].T) @ B[s, 1, 2].T for s in range(2))
    torch.testing.assert_close(got, want)


def test_empty_slots_leave_the_base_model_unchanged(tiny_model):
    gen = torch.Generator().manual_seed(1)
    x, text, mask = inputs(tiny_model, 2, 4, gen)
    t, pos = torch.rand(2, generator=gen), torch.arange(4, dtype=torch.float32)
    with torch.no_grad():
        base = tiny_model(x, t, text, mask, pos)
        torch.testing.assert_close(tiny_model(x, t, text, mask, pos, zero_lora(tiny_model.cfg)), base, rtol=0, atol=0)
        A, B = lora_tensors(tiny_model.cfg, gen, 2)
        assert (tiny_model(x, t, text, mask, pos, (A, B, torch.ones(2))) - base).abs().max() > 1e-4


def test_per_sample_loras_equal_each_sample_run_with_its_own(tiny_model):
    gen = torch.Generator().manual_seed(2)
    x, text, mask = inputs(tiny_model, 2, 2, gen)
    t, pos = torch.rand(2, generator=gen), torch.tensor([0.0, 5.0])
    A, B = lora_tensors(tiny_model.cfg, gen, 2, 2)  # (N, slots, ...)
    scale = torch.rand(2, 2, generator=gen)
    with torch.no_grad():
        batched = tiny_model(x, t, text, mask, pos, (A, B, scale))
        for n in range(2):
            alone = tiny_model(x[n:n + 1], t[n:n + 1], text[n:n + 1], mask[n:n + 1], pos, (A[n], B[n], scale[n]))
            torch.testing.assert_close(batched[n:n + 1], alone, rtol=1e-4, atol=1e-5)


def test_loras_trained_together_get_the_gradients_each_gets_alone(tiny_model):
    gen = torch.Generator().manual_seed(3)
    cfg = tiny_model.cfg
    x0, text, mask = inputs(tiny_model, 2, 2, gen)
    noise = torch.randn(x0.shape, generator=gen)
    t = torch.rand(2, generator=gen)
    pos = torch.tensor([[0.0, 8.0], [3.0, 4.0]])
    fA, fB = lora_tensors(cfg, gen, 2)
    A, B = lora_tensors(cfg, gen, 2)
    fscale, scale = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 2.0])
    loss_w = torch.tensor([[1.0, 0.5], [1.0, 0.0]])
    losses, terms, gA, gB = lora_train_step_many(tiny_model, x0, noise, t, text, mask, pos, fA, fB, fscale, A, B, scale, loss_w)
    assert losses.shape == (2,) and terms.shape == (2, 2) and gA.shape == A.shape and gB.shape == B.shape
    for n in range(2):
        s = slice(n, n + 1)
        loss, term, ga, gb = lora_train_step(tiny_model, x0[s], noise[s], t[s], text[s], mask[s], pos[n], fA[n], fB[n], fscale[s], A[n], B[n],
                                             scale[s], loss_w[n])
        torch.testing.assert_close(losses[n], loss, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(terms[n], term, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(gA[n], ga, rtol=1e-3, atol=1e-6)
        torch.testing.assert_close(gB[n], gb, rtol=1e-3, atol=1e-6)


def test_several_samples_a_step_give_each_lora_the_mean_of_its_samples(tiny_model):
    # LoRA 0 trains on samples 0 and 1, LoRA 1 on sample 2: each gets the mean loss and gradient of its own.
    gen = torch.Generator().manual_seed(4)
    cfg = tiny_model.cfg
    x0, text, mask = inputs(tiny_model, 3, 2, gen)
    noise = torch.randn(x0.shape, generator=gen)
    t = torch.rand(3, generator=gen)
    pos = torch.tensor([[0.0, 8.0], [2.0, 9.0], [3.0, 4.0]])
    fA, fB = lora_tensors(cfg, gen, 3)
    A, B = lora_tensors(cfg, gen, 2)
    fscale, scale = torch.tensor([1.0, 0.5, 0.0]), torch.tensor([1.0, 1.0, 2.0])
    loss_w = torch.tensor([[1.0, 0.5], [1.0, 0.5], [1.0, 0.0]])
    rows = torch.tensor([0, 0, 1])
    losses, terms, gA, gB = lora_train_step_many(tiny_model, x0, noise, t, text, mask, pos, fA, fB, fscale, A, B, scale, loss_w, rows=rows)
    assert losses.shape == (2,) and terms.shape == (2, 2) and gA.shape == A.shape and gB.shape == B.shape
    for n, samples in ((0, (0, 1)), (1, (2,))):
        alone = [lora_train_step(tiny_model, x0[r:r + 1], noise[r:r + 1], t[r:r + 1], text[r:r + 1], mask[r:r + 1], pos[r], fA[r], fB[r],
                                 fscale[r:r + 1], A[n], B[n], scale[r:r + 1], loss_w[r]) for r in samples]
        mean = lambda i: sum(a[i] for a in alone) / len(alone)  # noqa: E731
        torch.testing.assert_close(losses[n], mean(0), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(terms[n], mean(1), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(gA[n], mean(2), rtol=1e-3, atol=1e-6)
        torch.testing.assert_close(gB[n], mean(3), rtol=1e-3, atol=1e-6)


def test_seeded_noise_depends_only_on_the_seed_and_the_element():
    seeds = torch.tensor([7, 123456789, 4294967295])
    both = seeded_normals(seeds, 10_000)
    torch.testing.assert_close(seeded_normals(seeds[1:2], 10_000)[0], both[1], rtol=0, atol=0)
    torch.testing.assert_close(seeded_normals(seeds, 100), both[:, :100], rtol=0, atol=0)
    assert abs(float(both.mean())) < 0.03 and abs(float(both.std()) - 1) < 0.03
