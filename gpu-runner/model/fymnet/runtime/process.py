"""The torch process: the torch engine's one long-lived Python process, which keeps the model on the
GPU and serves the FYM engine's operations (text, denoise, probe, train) to the TypeScript runner
over stdin/stdout.

Every message, both ways, is one safetensors frame (runtime/protocol.py). The functions the ONNX
graphs are exported from (fymnet.graphs) compute the results, so the two engines agree by
construction; tests check it anyway.

On CUDA, the training step and the denoiser run as CUDA graphs (captured once per input shape, then
replayed after copying the inputs into static buffers): a model this small is bound by kernel
launches, not arithmetic, and a replay launches the whole step at once.

Usage, from gpu-runner/model: python -m fymnet.runtime.process --weights ../artifacts/weights.safetensors
       [--device auto|cuda|cpu] [--bf16] [--compile] [--no-cuda-graphs] [--tf32]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback

import torch

from fymnet.checkpoint import load_model
from fymnet.flow import bf16
from fymnet.graphs import lora_train_step
from fymnet.network.heads import AttentionProbe
from fymnet.runtime.cuda_graphs import Captured
from fymnet.runtime.protocol import OPS, read_frame, write_frame
from fymnet.training.trainer_group import TrainerGroup


class TorchProcess:
    """The model on one device, and the ops the runner calls on it."""

    def __init__(self, weights: str, device: str, use_bf16: bool, compile_: bool, cuda_graphs: bool = False):
        model, _ = load_model(weights)
        self.cfg = model.cfg
        self.device = torch.device(device)
        self.model = model.to(self.device).requires_grad_(False)
        self.probe_module = AttentionProbe(self.model)
        self.autocast = use_bf16 and self.device.type == "cuda"
        self.fast = self.device.type == "cuda"
        # Fixed shapes per op (batch 2 sampling, 1/K/F-frame training): compile specialises once each.
        self.forward = torch.compile(self.model, dynamic=False) if compile_ else self.model
        self.cuda_graphs = cuda_graphs and self.device.type == "cuda"
        self.captured: dict[tuple, Captured] = {}
        self.trainers: dict[str, TrainerGroup] = {}

    def train_forward(self, *a):
        """The denoiser as training steps call it, in this process's precision and attention kernel."""
        with bf16(self.autocast):
            return self.forward(*a, fast=self.fast)

    def run(self, op: str, t: dict[str, torch.Tensor], meta: dict) -> dict[str, torch.Tensor]:
        """One request's outputs: `op` with its tensors and options."""
        if op not in OPS:
            raise ValueError(f"unknown op '{op}': the torch process speaks {', '.join(OPS)}")
        if op == "denoise_many":
            t = self.assemble(t)
            op = "denoise"
        if op.startswith("trainer_"):
            return self.trainer_op(op, t, meta)
        if self.cuda_graphs and op in ("train", "denoise"):
            key = (op, *((k, tuple(v.shape)) for k, v in sorted(t.items())))
            if key not in self.captured:
                self.captured[key] = Captured(lambda s: self.compute(op, s), t)
            return self.captured[key](t)
        return self.compute(op, t)

    @staticmethod
    def assemble(t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Several generations in one denoiser batch: item i brings its (cond, uncond) pair and its
        own LoRA slots (held in the process between steps), repeated for both halves of its pair."""
        n = t["t"].shape[0] // 2
        per = lambda k: [t[f"{k}.{i}"] for i in range(n)]  # noqa: E731
        twice = lambda xs: torch.stack([x for x in xs for _ in range(2)])  # noqa: E731
        return {"x": t["x"], "t": t["t"], "text": torch.cat(per("text")), "text_mask": torch.cat(per("text_mask")),
                "frame_pos": t["frame_pos"], "lora_A": twice(per("lora_A")), "lora_B": twice(per("lora_B")),
                "lora_scale": twice(per("lora_scale"))}

    def trainer_op(self, op: str, t: dict[str, torch.Tensor], meta: dict) -> dict[str, torch.Tensor]:
        """The batched trainers' ops: init, step, weights, free."""
        gid = meta["trainer"]
        if op == "trainer_init":
            self.trainers[gid] = TrainerGroup(self.train_forward, t, json.loads(meta["hp"]))
            return {}
        group = self.trainers[gid]
        if op == "trainer_step":
            if self.cuda_graphs:
                key = (gid, *((k, tuple(v.shape)) for k, v in sorted(t.items())))
                if key not in self.captured:
                    self.captured[key] = Captured(group.step, t, stateful=group)
                return self.captured[key](t)
            return group.step(t)
        if op == "trainer_weights":
            return {"lora_A": group.A, "lora_B": group.B}
        if op == "trainer_free":
            del self.trainers[gid]
            for key in [k for k in self.captured if k[0] == gid]:
                del self.captured[key]
            return {}
        raise ValueError(f"unknown op '{op}'")

    def compute(self, op: str, t: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One op on the model, eagerly (what a CUDA graph captures)."""
        with torch.no_grad():
            if op == "text":
                text, mask = self.model.text(t["tokens"])
                return {"text": text, "text_mask": mask}
            if op == "denoise":
                with bf16(self.autocast):
                    v = self.forward(t["x"], t["t"], t["text"], t["text_mask"], t["frame_pos"], (t["lora_A"], t["lora_B"], t["lora_scale"]), fast=self.fast)
                return {"v": v.float()}
            if op == "probe":
                return {"similarities": self.probe_module(t["x"], t["t"], t["text"], t["text_mask"], t["frame_pos"])}
        if op == "train":
            loss, terms, gA, gB = lora_train_step(self.train_forward, t["x0"], t["noise"], t["t"], t["text"], t["text_mask"], t["frame_pos"],
                                                  t["frozen_A"], t["frozen_B"], t["frozen_scale"], t["lora_A"], t["lora_B"],
                                                  t["lora_scale"], t["loss_weights"])
            return {"loss": loss.reshape(1), "loss_terms": terms, "grad_A": gA, "grad_B": gB}
        raise ValueError(f"unknown op '{op}'")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--no-cuda-graphs", action="store_true")
    ap.add_argument("--tf32", action="store_true", help="TF32 matmuls on CUDA: faster, ~3e-4 relative error (benchmarks, not parity)")
    args = ap.parse_args()
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cuda" and not torch.cuda.is_available():
        sys.stderr.write("torch engine: CUDA was asked for but torch.cuda.is_available() is False\n")
        sys.exit(3)
    # fp32 parity with the ONNX graphs unless TF32 (or bf16) is asked for.
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    proc = TorchProcess(args.weights, device, args.bf16, args.compile, cuda_graphs=not args.no_cuda_graphs)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    write_frame(stdout, {"op": "ready", "device": device, "device_name": name, "torch": torch.__version__,
                         "bf16": proc.autocast, "tf32": args.tf32, "compile": args.compile, "cuda_graphs": proc.cuda_graphs,
                         "config": json.dumps(proc.cfg.to_dict()), "ops": ",".join(OPS)}, {})
    cache: dict[str, torch.Tensor] = {}
    while True:
        t0 = time.perf_counter()
        try:
            meta, tensors = read_frame(stdin, proc.device, cache)
        except EOFError:
            return
        except KeyError as e:
            write_frame(stdout, {"ok": "0", "error": f"KeyError: {e}"}, {})
            continue
        try:
            out = proc.run(meta.get("op", ""), tensors, meta)
            if proc.device.type == "cuda":
                torch.cuda.synchronize()
            write_frame(stdout, {"id": meta.get("id", ""), "ok": "1", "ms": f"{(time.perf_counter() - t0) * 1000:.3f}"}, out)
        except Exception as e:  # a bad request fails that request, not the process
            traceback.print_exc(file=sys.stderr)
            write_frame(stdout, {"id": meta.get("id", ""), "ok": "0", "error": f"{type(e).__name__}: {e}"}, {})


if __name__ == "__main__":
    main()
