"""Export to the artifacts the runner loads: ONNX graphs, weights, vocabulary, golden outputs, manifest."""
