"""One graph to ONNX: traced forward(+backward) with make_fx over core-aten decompositions and exported
with the dynamo exporter (ARCHITECTURE.md decision 1), weights as graph inputs; then its constant
initializers shrunk."""
from __future__ import annotations

import os
import time

import numpy as np
import torch


def example_inputs(spec, model) -> list[torch.Tensor]:
    """Inputs to trace a graph with: the model's weights, then small values of each input's shape."""
    sd = model.state_dict()
    args = [sd[k] for k in spec.weights]
    for name, shape, dt in spec.inputs:
        if dt == torch.int64:
            t = torch.zeros(shape, dtype=torch.int64)
            t[..., 0] = 1
        elif name == "frame_pos":
            t = torch.arange(shape[0], dtype=torch.float32)
        else:
            t = torch.randn(shape) * (0.02 if name.startswith(("lora", "frozen")) else 1.0)
        args.append(t)
    return args


def export_graph(spec, model, path: str) -> dict:
    """Traces `spec` and writes it to `path` as ONNX (opset 18); returns the time taken and the FX node count."""
    from torch._decomp import core_aten_decompositions
    from torch.fx.experimental.proxy_tensor import make_fx

    args = example_inputs(spec, model)
    t0 = time.time()
    gm = make_fx(spec.fn, decomposition_table=core_aten_decompositions())(*args)
    names = list(spec.weights) + [n for n, _, _ in spec.inputs]
    torch.onnx.export(gm, tuple(args), path, dynamo=True, input_names=names, output_names=spec.outputs,
                      opset_version=18, external_data=False)
    return {"seconds": round(time.time() - t0, 1), "fx_nodes": len(gm.graph.nodes)}


def shrink_constants(path: str, min_elements: int = 256) -> int:
    """Replaces large initializers that hold one repeated value (zeros for gradient scatters,
    broadcast fills) by ConstantOfShape nodes: same graph, a fraction of the bytes. Returns bytes saved."""
    import onnx
    from onnx import helper, numpy_helper

    proto = onnx.load(path)
    before = os.path.getsize(path)
    keep, nodes = [], []
    for init in proto.graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.size >= min_elements and arr.size > 0 and np.all(arr == arr.flat[0]):
            shape_name = f"{init.name}__shape"
            nodes.append(helper.make_node("Constant", [], [shape_name],
                                          value=numpy_helper.from_array(np.array(arr.shape, np.int64))))
            nodes.append(helper.make_node("ConstantOfShape", [shape_name], [init.name],
                                          value=numpy_helper.from_array(arr.flat[0:1].copy())))
        else:
            keep.append(init)
    if not nodes:
        return 0
    del proto.graph.initializer[:]
    proto.graph.initializer.extend(keep)
    existing = list(proto.graph.node)
    del proto.graph.node[:]
    proto.graph.node.extend(nodes + existing)
    onnx.save(proto, path)
    return before - os.path.getsize(path)
