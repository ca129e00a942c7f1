"""Makes a variant of an exported graph with the weights embedded as initializers (stored as
external data beside it) instead of fed as inputs, to measure which loads and runs faster.

python -m fymnet.export.embed_weights ARTIFACTS_DIR GRAPH OUT_DIR  (from gpu-runner/model)
"""
from __future__ import annotations

import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from fymnet import safetensors_io


def main() -> None:
    art, graph, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    weights, _ = safetensors_io.load(os.path.join(art, "weights.safetensors"))
    model = onnx.load(os.path.join(art, f"{graph}.onnx"))
    names = {i.name for i in model.graph.input}
    keep = [i for i in model.graph.input if i.name not in weights]
    for name, t in weights.items():
        if name in names:
            model.graph.initializer.append(numpy_helper.from_array(t.float().numpy().astype(np.float32), name))
    del model.graph.input[:]
    model.graph.input.extend(keep)
    onnx.save_model(model, os.path.join(out, f"{graph}.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=f"{graph}.weights", size_threshold=1024)


if __name__ == "__main__":
    main()
