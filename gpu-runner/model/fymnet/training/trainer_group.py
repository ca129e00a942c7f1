"""A group of N LoRA trainers that live on the torch process's device: weights, AdamW state and the reference
clips stay there, so one training step of all N LoRAs is one batched forward/backward plus one
fused optimizer update, and only frame indices, timesteps and noise seeds cross the pipe.

The update is the TypeScript AdamW's (gpu-runner/lora/adamw.ts) element for element: linear
warm-up, gradient clipping by each LoRA's global norm over its trainable elements, decoupled weight
decay, bias correction, masked elements left exactly as they are. Noise is drawn per LoRA from a
counter-based generator keyed by (seed, element), so a LoRA's noise does not depend on which other
LoRAs share its batch: N LoRAs trained together equal the same LoRAs trained one by one.

A LoRA may train on k samples a step (`samples` (N,) at init: k independent draws of frames, noise,
timestep and caption variant, its loss and gradient their mean): the batch then holds R = sum(k)
samples, each LoRA's one after another, and a step's tensors are per sample.
"""
from __future__ import annotations

import torch

from fymnet.graphs import lora_train_step_many
from fymnet.training.noise import seeded_normals


class TrainerGroup:
    """N LoRAs of one shape, trained together. `forward(x, t, text, mask, pos, lora)` is the denoiser."""

    def __init__(self, forward, t: dict[str, torch.Tensor], hp: dict):
        self.forward = forward
        # (N, V·F, 3, H, W): each LoRA's reference clip, or a bank of V appearance variants of it one
        # after another (a step's frame indices pick the variant), with its V captions (N, V, T, D).
        self.clips = t["clips"].clone()
        text, mask = t["text"], t["text_mask"]
        self.text = (text[:, None] if text.dim() == 3 else text).clone()
        self.mask = (mask[:, None] if mask.dim() == 2 else mask).clone()
        self.fA, self.fB, self.fscale = t["frozen_A"].clone(), t["frozen_B"].clone(), t["frozen_scale"].clone()
        self.A, self.B, self.scale = t["lora_A"].clone(), t["lora_B"].clone(), t["lora_scale"].clone()
        self.mA, self.mB = t["mask_A"].clone(), t["mask_B"].clone()
        self.loss_w = t["loss_weights"].clone()
        # Samples a step per LoRA (absent: one each). `rows` (R,) says which LoRA each sample trains;
        # None keeps one sample per LoRA and the step exactly as it was before samples existed.
        samples = t["samples"].long() if "samples" in t else None
        self.rows = None
        if samples is not None and bool((samples != 1).any()):
            if bool((samples < 1).any()):
                raise ValueError(f"samples per step must be >= 1, got {samples.tolist()}")
            self.rows = torch.repeat_interleave(torch.arange(len(samples), device=samples.device), samples)
        self.state = [torch.zeros_like(self.A), torch.zeros_like(self.A), torch.zeros_like(self.B), torch.zeros_like(self.B)]
        self.t = torch.zeros((), device=self.A.device)
        self.lr, self.warmup = t["lr"].clone(), t["warmup_steps"].clone()  # (N,): each LoRA its own recipe
        self.wd, self.b1, self.b2 = float(hp["weight_decay"]), float(hp["beta1"]), float(hp["beta2"])
        self.eps, self.clip = float(hp["eps"]), float(hp["clip_norm"])

    @property
    def size(self) -> int:
        """How many LoRAs train together."""
        return self.A.shape[0]

    def snapshot(self) -> list[torch.Tensor]:
        """Copies of everything a step changes (weights, AdamW state, step count)."""
        return [x.clone() for x in (self.A, self.B, *self.state, self.t)]

    def restore(self, saved: list[torch.Tensor]) -> None:
        """Puts back a snapshot, in place (CUDA graphs hold these tensors' addresses)."""
        for dst, src in zip((self.A, self.B, *self.state, self.t), saved):
            dst.copy_(src)

    @property
    def samples(self) -> int:
        """Samples in a step's batch (R): one per LoRA unless `samples` was given."""
        return self.size if self.rows is None else self.rows.shape[0]

    def step(self, s: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """s: frames (R, n) indices, frame_pos (R, n), t (R,), seeds (R,), and optionally variant (R,) (which
        caption of the bank) and frozen_gain (R,) (the frozen LoRA's weight this step), one row per sample
        (R = N without `samples`) -> losses (N,), terms (N, 2), each LoRA's mean over its samples."""
        frames = s["frames"].long()
        if frames.shape[0] != self.samples:
            raise ValueError(f"a step of this trainer has {self.samples} samples, got {frames.shape[0]}")
        one = self.rows is None
        rows = torch.arange(self.size, device=frames.device) if one else self.rows
        x0 = self.clips[rows[:, None], frames]  # (R, n, 3, H, W)
        noise = seeded_normals(s["seeds"].long(), x0[0].numel()).view_as(x0)
        if "variant" in s:
            v = s["variant"].long()
            text, mask = self.text[rows, v], self.mask[rows, v]
        else:
            text, mask = self.text[rows, 0], self.mask[rows, 0]
        fscale = self.fscale if one else self.fscale[rows]
        if "frozen_gain" in s:
            fscale = fscale * s["frozen_gain"]
        if one:
            losses, terms, gA, gB = lora_train_step_many(self.forward, x0, noise, s["t"], text, mask, s["frame_pos"],
                                                         self.fA, self.fB, fscale, self.A, self.B, self.scale, self.loss_w)
        else:
            losses, terms, gA, gB = lora_train_step_many(self.forward, x0, noise, s["t"], text, mask, s["frame_pos"],
                                                         self.fA[rows], self.fB[rows], fscale, self.A, self.B, self.scale[rows],
                                                         self.loss_w[rows], rows=rows)
        self._adamw(gA * self.mA, gB * self.mB)
        return {"loss": losses, "loss_terms": terms}

    def _adamw(self, gA: torch.Tensor, gB: torch.Tensor) -> None:
        norm = torch.sqrt(gA.flatten(1).pow(2).sum(1) + gB.flatten(1).pow(2).sum(1))  # (N,)
        clip = torch.where(norm > self.clip, self.clip / norm, torch.ones_like(norm)) if self.clip > 0 else torch.ones_like(norm)
        self.t += 1
        warm = torch.where(self.warmup > 0, torch.clamp(self.t / self.warmup.clamp_min(1.0), max=1.0), torch.ones_like(self.warmup))
        c1 = 1 - self.b1 ** self.t
        c2 = 1 - self.b2 ** self.t
        mA, vA, mB, vB = self.state
        for p, g, m, v, mask in ((self.A, gA, mA, vA, self.mA), (self.B, gB, mB, vB, self.mB)):
            per = lambda x: x.view(-1, *([1] * (g.dim() - 1)))  # noqa: E731
            lr = per(self.lr * warm)
            g = g * per(clip)
            m.mul_(self.b1).add_((1 - self.b1) * g)
            v.mul_(self.b2).add_((1 - self.b2) * g * g)
            update = p * (lr * self.wd) + lr * (m / c1) / (torch.sqrt(v / c2) + self.eps)
            p.sub_(mask * update)
