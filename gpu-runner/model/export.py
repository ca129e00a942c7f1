"""Exports the ONNX graphs the runner drives, one weights file shared by all of them, golden outputs
for CI, and manifest.json. Traced forward(+backward) with make_fx over core-aten decompositions and
exported with the dynamo exporter (ARCHITECTURE.md decision 1); weights are graph inputs.

python3 export.py --weights DIR/weights.safetensors --out ARTIFACTS_DIR [--sparse-frames 4] [--commit SHA]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import time

import numpy as np
import torch

import st
from golden import golden_input, summarize
from graphs import specs
from network import ModelConfig, VideoDiT
from vocab import VOCAB

NP_DTYPE = {torch.float32: "float32", torch.int64: "int64"}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(weights: str) -> tuple[VideoDiT, dict]:
    tensors, meta = st.load(weights)
    cfg = ModelConfig(**json.loads(meta["config"]))
    model = VideoDiT(cfg)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval(), meta


def example_inputs(spec, model) -> list[torch.Tensor]:
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sparse-frames", type=int, default=4)
    ap.add_argument("--commit", default=os.environ.get("TRAINING_COMMIT", "unknown"))
    ap.add_argument("--command", default=os.environ.get("TRAINING_COMMAND", ""))
    args = ap.parse_args()
    import onnx
    import onnxruntime as ort

    os.makedirs(args.out, exist_ok=True)
    model, meta = load_model(args.weights)
    cfg = model.cfg
    weights_out = os.path.join(args.out, "weights.safetensors")
    if os.path.abspath(args.weights) != os.path.abspath(weights_out):
        shutil.copyfile(args.weights, weights_out)
    with open(os.path.join(args.out, "vocab.json"), "w") as f:
        json.dump({"words": VOCAB, "max_tokens": cfg.max_tokens, "pad": 0, "cls": 1}, f, indent=1)
    weights_np = {k: v.float().numpy() for k, v in st.load(weights_out)[0].items()}
    graphs = {}
    for gi, spec in enumerate(specs(model, args.sparse_frames)):
        path = os.path.join(args.out, f"{spec.name}.onnx")
        info = export_graph(spec, model, path)
        info["bytes_saved_by_shrink"] = shrink_constants(path)
        proto = onnx.load(path)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        declared = {i.name for i in sess.get_inputs()}
        feeds = {k: weights_np[k] for k in spec.weights if k in declared}
        inputs_meta = []
        for ii, (name, shape, dt) in enumerate(spec.inputs):
            inputs_meta.append({"name": name, "dtype": NP_DTYPE[dt], "shape": list(shape), "used": name in declared})
            if name in declared:
                feeds[name] = golden_input(gi, ii, name, shape, NP_DTYPE[dt], cfg.vocab)
        outs = sess.run(spec.outputs, feeds)
        graphs[spec.name] = {
            "file": f"{spec.name}.onnx",
            "sha256": sha256_file(path),
            "bytes": os.path.getsize(path),
            "onnx_nodes": len(proto.graph.node),
            "weights": [k for k in spec.weights if k in declared],
            "inputs": inputs_meta,
            "outputs": [{"name": n, "shape": list(o.shape)} for n, o in zip(spec.outputs, outs)],
            "golden": {"graph_index": gi, "outputs": {n: summarize(o) for n, o in zip(spec.outputs, outs)}},
            "export": info,
        }
        print(json.dumps({"graph": spec.name, **info, "onnx_nodes": len(proto.graph.node),
                          "bytes": os.path.getsize(path)}), flush=True)
    manifest = {
        "format": 1,
        "model": {"id": "fym-tiny-dit", "sha256": sha256_file(weights_out), "config": cfg.to_dict(),
                  "weights": "weights.safetensors", "vocab": "vocab.json",
                  "flow": "rectified flow: x_t = (1 - t) x0 + t noise, v = noise - x0, t in [0, 1]",
                  "pixels": "clips are (frames, 3, size, size) in [-1, 1]",
                  "sparse_frames": args.sparse_frames},
        "training": {"commit": args.commit, "command": args.command,
                     **{k: json.loads(v) if k != "model" else v for k, v in meta.items() if k in ("steps", "seconds", "seed", "batch", "final_loss")}},
        "graphs": graphs,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
