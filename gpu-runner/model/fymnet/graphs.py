"""The computations the runner executes, as pure functions of flat tensors: weights first (in the
order of `weight_names`), then the graph's own inputs. fymnet.export traces these into ONNX, the torch
process runs them, and evaluation/parity.py runs them eagerly as the reference."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from fymnet.network.config import ModelConfig
from fymnet.network.dit import VideoDiT
from fymnet.network.heads import AttentionProbe

try:
    from torch.func import functional_call
except ImportError:  # torch < 2.0 (CPU smoke tests only)
    from torch.nn.utils.stateless import functional_call


@dataclass
class Spec:
    """One graph: its name, the weights it takes (in order), its own inputs (name, shape, dtype), outputs, function."""

    name: str
    weights: list[str]
    inputs: list[tuple[str, tuple[int, ...], torch.dtype]]
    outputs: list[str]
    fn: object


def weight_names(model: VideoDiT, text: bool) -> list[str]:
    """The state-dict names of the text encoder's weights (`text`) or of everything else."""
    return [k for k in model.state_dict() if k.startswith("text.") == text]


def specs(model: VideoDiT, sparse_frames: int) -> list[Spec]:
    """Every graph the runner loads, in manifest order (a graph's index seeds its golden inputs)."""
    cfg: ModelConfig = model.cfg
    F, L, dt, d, r, D = cfg.frames, cfg.max_tokens, cfg.text_dim, cfg.dim, cfg.lora_rank, cfg.depth
    hw = (3, cfg.size, cfg.size)
    f32 = torch.float32
    text_w, net_w = weight_names(model, True), weight_names(model, False)
    probe_module = AttentionProbe(model)

    def params(names, flat):
        return dict(zip(names, flat[:len(names)])), flat[len(names):]

    def text_encoder(*flat):
        p, (tokens,) = params(text_w, flat)
        return functional_call(model.text, {k[len("text."):]: v for k, v in p.items()}, (tokens,))

    def denoiser(*flat):
        p, (x, t, text, mask, pos, A, B, scale) = params(net_w, flat)
        return (functional_call(model, p, (x, t, text, mask, pos, (A, B, scale))),)

    def probe(*flat):
        p, (x, t, text, mask, pos) = params(net_w, flat)
        return (functional_call(probe_module, {f"model.{k}": v for k, v in p.items()}, (x, t, text, mask, pos)),)

    def train_step(*flat):
        p, args = params(net_w, flat)
        return lora_train_step(lambda *a: functional_call(model, p, a), *args)

    def train_inputs(n):
        return [("x0", (1, n, *hw), f32), ("noise", (1, n, *hw), f32), ("t", (1,), f32), ("text", (1, L, dt), f32),
                ("text_mask", (1, L), f32), ("frame_pos", (n,), f32), ("frozen_A", (D, 4, r, d), f32),
                ("frozen_B", (D, 4, d, r), f32), ("frozen_scale", (1,), f32), ("lora_A", (D, 4, r, d), f32),
                ("lora_B", (D, 4, d, r), f32), ("lora_scale", (1,), f32), ("loss_weights", (2,), f32)]

    slots = cfg.lora_slots
    out = [
        Spec("text_encoder", text_w, [("tokens", (1, L), torch.int64)], ["text", "text_mask"], text_encoder),
        Spec("denoiser", net_w,
             [("x", (2, F, *hw), f32), ("t", (2,), f32), ("text", (2, L, dt), f32), ("text_mask", (2, L), f32),
              ("frame_pos", (F,), f32), ("lora_A", (slots, D, 4, r, d), f32), ("lora_B", (slots, D, 4, d, r), f32),
              ("lora_scale", (slots,), f32)], ["v"], denoiser),
        Spec("attention_probe", net_w,
             [("x", (1, F, *hw), f32), ("t", (1,), f32), ("text", (1, L, dt), f32), ("text_mask", (1, L), f32),
              ("frame_pos", (F,), f32)], ["similarities"], probe),
    ]
    for n, tag in ((1, "spatial"), (sparse_frames, "sparse"), (F, "dense")):
        out.append(Spec(f"train_step_{tag}", net_w, train_inputs(n), ["loss", "loss_terms", "grad_A", "grad_B"], train_step))
    return out


def lora_train_step(forward, x0, noise, t, text, mask, pos, fA, fB, fscale, A, B, scale, loss_w):
    """One LoRA training step: the loss and its gradients with respect to the trainable A and B, with
    a frozen LoRA in the first slot. `forward(x, t, text, mask, pos, lora)` is the denoiser. Shared by
    the exported training graphs and the torch process, so both compute the same thing."""
    with torch.enable_grad():
        A = A.detach().requires_grad_(True)
        B = B.detach().requires_grad_(True)
        tt = t[:, None, None, None, None]
        xt = (1 - tt) * x0 + tt * noise
        lora = (torch.stack([fA, A]), torch.stack([fB, B]), torch.cat([fscale, scale]))
        v = forward(xt, t, text, mask, pos, lora).float()
        target = noise - x0
        fm = ((v - target) ** 2).mean()
        if x0.shape[1] > 1:
            # Motion-focused term: error of the prediction's frame-to-frame differences, which
            # a static appearance cannot lower (MotionDirector's appearance-debiased loss, in spirit).
            mo = (((v[:, 1:] - v[:, :-1]) - (target[:, 1:] - target[:, :-1])) ** 2).mean()
        else:
            mo = fm * 0.0
        loss = loss_w[0] * fm + loss_w[1] * mo
        gA, gB = torch.autograd.grad(loss, (A, B))
    return loss, torch.stack([fm, mo]), gA, gB


def lora_train_step_many(forward, x0, noise, t, text, mask, pos, fA, fB, fscale, A, B, scale, loss_w, rows=None):
    """`lora_train_step` for N independent LoRAs at once: sample n of the batch is trained by LoRA n
    (A (N, depth, 4, r, dim), frozen LoRA fA likewise, scales (N,), frame positions (N, F)). The loss
    is the sum of the per-sample losses, so each LoRA's gradient is exactly its own step's gradient.
    Returns per-sample losses (N,), terms (N, 2) and gradients shaped like A and B.

    With `rows` (R,) int64, the batch holds R samples and LoRA `rows[r]` trains on sample r (several
    noise and timestep draws per LoRA a step): A and B are still the N LoRAs', every other argument
    is per sample (R, ...), and each LoRA's loss, terms and gradient are the mean over its samples."""
    with torch.enable_grad():
        A = A.detach().requires_grad_(True)
        B = B.detach().requires_grad_(True)
        a, b = (A, B) if rows is None else (A[rows], B[rows])
        tt = t[:, None, None, None, None]
        xt = (1 - tt) * x0 + tt * noise
        lora = (torch.stack([fA, a], 1), torch.stack([fB, b], 1), torch.stack([fscale, scale], 1))
        v = forward(xt, t, text, mask, pos, lora).float()
        target = noise - x0
        fm = ((v - target) ** 2).flatten(1).mean(1)
        if x0.shape[1] > 1:
            mo = (((v[:, 1:] - v[:, :-1]) - (target[:, 1:] - target[:, :-1])) ** 2).flatten(1).mean(1)
        else:
            mo = fm * 0.0
        losses = loss_w[:, 0] * fm + loss_w[:, 1] * mo  # loss_w (N, 2): each LoRA its own weighting
        terms = torch.stack([fm, mo], 1)
        if rows is not None:
            n = A.shape[0]
            count = torch.zeros(n, device=losses.device, dtype=losses.dtype).index_add(0, rows, torch.ones_like(losses))
            w = (1.0 / count)[rows]  # each sample weighs 1/k of its LoRA: the mean over its k samples
            losses = torch.zeros(n, device=losses.device, dtype=losses.dtype).index_add(0, rows, losses * w)
            terms = torch.zeros(n, 2, device=terms.device, dtype=terms.dtype).index_add(0, rows, terms * w[:, None])
        gA, gB = torch.autograd.grad(losses.sum(), (A, B))
    return losses, terms, gA, gB
