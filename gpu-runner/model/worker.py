"""The torch engine's worker: one long-lived process that keeps the model on the GPU and serves the
FYM engine's operations (text, denoise, probe, train) to the TypeScript runner over stdin/stdout.

Every message, both ways, is one safetensors frame: 8 bytes of little-endian header length, a JSON
header (tensor dtypes, shapes, byte offsets; `__metadata__` holds the op and its options), then the
raw little-endian tensor bytes. The same code paths as the exported graphs (network.py, graphs.py)
compute the results, so the two engines agree by construction; tests check it anyway.

On CUDA, the training step and the denoiser run as CUDA graphs (captured once per input shape, then
replayed after copying the inputs into static buffers): a model this small is bound by kernel
launches, not arithmetic, and a replay launches the whole step at once.

Usage: python3 worker.py --weights ../artifacts/weights.safetensors [--device auto|cuda|cpu]
       [--bf16] [--compile] [--no-cuda-graphs]
"""
from __future__ import annotations

import argparse
import json
import struct
import sys
import time
import traceback

import torch

import st
from flow import bf16
from graphs import _Probe, lora_train_step
from network import ModelConfig, VideoDiT
from trainer import TrainerGroup

DTYPES = {"F32": (4, torch.float32), "I64": (8, torch.int64)}
CACHE_BYTES = 2 << 30


def read_exact(stream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError("stdin closed")
        buf += chunk
    return bytes(buf)


def read_frame(stream, device, cache: dict[str, torch.Tensor]) -> tuple[dict, dict[str, torch.Tensor]]:
    """One request: its tensors land on the device in a single host-to-device copy. Tensors the
    runner marked `store` are kept under their key; `cached` ones are taken from there unsent."""
    n = struct.unpack("<Q", read_exact(stream, 8))[0]
    header = json.loads(read_exact(stream, n))
    meta = header.pop("__metadata__", {})
    size = max((v["data_offsets"][1] for v in header.values()), default=0)
    data = bytearray(read_exact(stream, size))
    flat = torch.frombuffer(data, dtype=torch.uint8).to(device, non_blocking=False) if size else None
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        size, dt = DTYPES[info["dtype"]]
        raw = flat[a:b] if a % size == 0 else flat[a:b].clone()  # a view needs its element alignment
        tensors[name] = raw.view(dt).reshape(info["shape"])
    for name, key in json.loads(meta.get("store", "{}")).items():
        cache[key] = tensors[name].clone()  # its own storage: a view would keep the whole frame alive
    for name, key in json.loads(meta.get("cached", "{}")).items():
        if key not in cache:
            raise KeyError(f"cached tensor {key} for '{name}' is not held by this worker")
        tensors[name] = cache[key]
    # Oldest first; the runner re-sends what it no longer finds. Batched generation holds every
    # item's LoRA slots and text here, so the bound is in bytes.
    while sum(v.numel() * v.element_size() for v in cache.values()) > CACHE_BYTES and len(cache) > 1:
        cache.pop(next(iter(cache)))
    return meta, tensors


def write_frame(stream, meta: dict, tensors: dict[str, torch.Tensor]) -> None:
    """One reply: the outputs gathered on the device and brought back in a single copy."""
    header: dict = {"__metadata__": {k: str(v) for k, v in meta.items()}}
    flat = [t.detach().float().reshape(-1) for t in tensors.values()]
    raw = torch.cat(flat).cpu().numpy().tobytes() if flat else b""
    off = 0
    for (name, t), f in zip(tensors.items(), flat):
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + 4 * f.numel()]}
        off += 4 * f.numel()
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    stream.write(struct.pack("<Q", len(h)) + h + raw)
    stream.flush()


class Captured:
    """One op at one set of input shapes as a CUDA graph: inputs are copied into static buffers and
    the captured kernels replayed; outputs are cloned out of the graph's static outputs."""

    def __init__(self, fn, inputs: dict[str, torch.Tensor], stateful=None):
        """`stateful` (a TrainerGroup) is snapshotted before the warm-up runs and restored after the
        capture, so capturing a training step does not train."""
        self.static = {k: v.clone() for k, v in inputs.items()}
        saved = stateful.snapshot() if stateful is not None else None
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up off the capture stream, as CUDA graph capture requires
            for _ in range(3):
                fn(self.static)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = fn(self.static)
        if saved is not None:
            stateful.restore(saved)

    def __call__(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        for k, v in inputs.items():
            self.static[k].copy_(v)
        self.graph.replay()
        return {k: v.clone() for k, v in self.out.items()}


class Worker:
    def __init__(self, weights: str, device: str, use_bf16: bool, compile_: bool, cuda_graphs: bool = False):
        tensors, meta = st.load(weights)
        self.cfg = ModelConfig(**json.loads(meta["config"]))
        self.device = torch.device(device)
        model = VideoDiT(self.cfg)
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
        self.model = model.eval().to(self.device).requires_grad_(False)
        self.probe_module = _Probe(self.model)
        self.autocast = use_bf16 and self.device.type == "cuda"
        self.fast = self.device.type == "cuda"
        # Fixed shapes per op (batch 2 sampling, 1/K/F-frame training): compile specialises once each.
        self.forward = torch.compile(self.model, dynamic=False) if compile_ else self.model
        self.cuda_graphs = cuda_graphs and self.device.type == "cuda"
        self.captured: dict[tuple, Captured] = {}
        self.trainers: dict[str, TrainerGroup] = {}

    def train_forward(self, *a):
        with bf16(self.autocast):
            return self.forward(*a, fast=self.fast)

    def run(self, op: str, t: dict[str, torch.Tensor], meta: dict) -> dict[str, torch.Tensor]:
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
        own LoRA slots (held on the worker between steps), repeated for both halves of its pair."""
        n = t["t"].shape[0] // 2
        per = lambda k: [t[f"{k}.{i}"] for i in range(n)]  # noqa: E731
        twice = lambda xs: torch.stack([x for x in xs for _ in range(2)])  # noqa: E731
        return {"x": t["x"], "t": t["t"], "text": torch.cat(per("text")), "text_mask": torch.cat(per("text_mask")),
                "frame_pos": t["frame_pos"], "lora_A": twice(per("lora_A")), "lora_B": twice(per("lora_B")),
                "lora_scale": twice(per("lora_scale"))}

    def trainer_op(self, op: str, t: dict[str, torch.Tensor], meta: dict) -> dict[str, torch.Tensor]:
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
    worker = Worker(args.weights, device, args.bf16, args.compile, cuda_graphs=not args.no_cuda_graphs)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    write_frame(stdout, {"op": "ready", "device": device, "device_name": name, "torch": torch.__version__,
                         "bf16": worker.autocast, "tf32": args.tf32, "compile": args.compile, "cuda_graphs": worker.cuda_graphs, "config": json.dumps(worker.cfg.to_dict())}, {})
    cache: dict[str, torch.Tensor] = {}
    while True:
        t0 = time.perf_counter()
        try:
            meta, tensors = read_frame(stdin, worker.device, cache)
        except EOFError:
            return
        except KeyError as e:
            write_frame(stdout, {"ok": "0", "error": f"KeyError: {e}"}, {})
            continue
        try:
            out = worker.run(meta.get("op", ""), tensors, meta)
            if worker.device.type == "cuda":
                torch.cuda.synchronize()
            write_frame(stdout, {"id": meta.get("id", ""), "ok": "1", "ms": f"{(time.perf_counter() - t0) * 1000:.3f}"}, out)
        except Exception as e:  # a bad request fails that request, not the worker
            traceback.print_exc(file=sys.stderr)
            write_frame(stdout, {"id": meta.get("id", ""), "ok": "0", "error": f"{type(e).__name__}: {e}"}, {})


if __name__ == "__main__":
    main()
