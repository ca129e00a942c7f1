"""Writes the artifact set the runner loads: the ONNX graphs, one weights file shared by all of them,
the vocabulary, golden outputs for CI, and manifest.json with the sha256 of every file the runner
reads (gpu-runner/engine/manifest.ts refuses a set whose files do not match)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil

import torch

from fymnet import safetensors_io
from fymnet.checkpoint import load_model
from fymnet.export.golden import golden_input, summarize
from fymnet.export.onnx_graph import export_graph, shrink_constants
from fymnet.grammar import write_grammar
from fymnet.graphs import specs
from fymnet.vocab import VOCAB

NP_DTYPE = {torch.float32: "float32", torch.int64: "int64"}


def sha256_file(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_artifacts(weights: str, out: str, sparse_frames: int = 4, commit: str = "unknown", command: str = "") -> dict:
    """Exports every graph of `weights` into `out`, checks each once with onnxruntime (its golden
    outputs), and writes manifest.json; returns the manifest."""
    import onnx
    import onnxruntime as ort

    os.makedirs(out, exist_ok=True)
    model, meta = load_model(weights)
    cfg = model.cfg
    weights_out = os.path.join(out, "weights.safetensors")
    if os.path.abspath(weights) != os.path.abspath(weights_out):
        shutil.copyfile(weights, weights_out)
    vocab_out = os.path.join(out, "vocab.json")
    with open(vocab_out, "w") as f:
        json.dump({"words": VOCAB, "max_tokens": cfg.max_tokens, "pad": 0, "cls": 1}, f, indent=1)
    grammar_out = os.path.join(out, "grammar.json")
    write_grammar(grammar_out)
    weights_np = {k: v.float().numpy() for k, v in safetensors_io.load(weights_out)[0].items()}
    graphs = {}
    for gi, spec in enumerate(specs(model, sparse_frames)):
        path = os.path.join(out, f"{spec.name}.onnx")
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
                  "weights": "weights.safetensors", "vocab": "vocab.json", "vocab_sha256": sha256_file(vocab_out),
                  "flow": "rectified flow: x_t = (1 - t) x0 + t noise, v = noise - x0, t in [0, 1]",
                  "pixels": "clips are (frames, 3, size, size) in [-1, 1]",
                  "sparse_frames": sparse_frames,
                  "grammar": "grammar.json", "grammar_sha256": sha256_file(grammar_out)},
        "training": {"commit": commit, "command": command,
                     **{k: json.loads(v) if k != "model" else v for k, v in meta.items() if k in ("steps", "seconds", "seed", "batch", "final_loss")}},
        "graphs": graphs,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest
