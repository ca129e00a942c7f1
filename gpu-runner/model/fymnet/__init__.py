"""fymnet: the video diffusion transformer motion-lora tunes, with the synthetic world it is trained on,
its pretraining, its export to the ONNX graphs the runner drives, its evaluation and the torch process (the torch engine's Python side)."""
