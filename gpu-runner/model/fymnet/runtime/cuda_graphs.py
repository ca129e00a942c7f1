"""CUDA graph replay of the torch process's ops: a model this small is bound by kernel launches, not
arithmetic, and a replay launches a whole training step or denoiser call at once."""
from __future__ import annotations

import torch


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
