"""The shipped pretraining recipe: weights 29a9cc87… (gpu-runner/artifacts/manifest.json), 16.8 min of
one H100 with a step-down learning rate: stage 1 trains from scratch at 8e-4, stage 2 continues from
stage 1's EMA weights at half that. Each stage is one run of under 10 minutes, so a run that is cut off
costs one stage, and stage 1's weights are a checkpoint anyone can resume from.

Reproduce on any CUDA machine with PyTorch, from the project root (OUT: the folder each run writes to):
  COMMIT=<sha> bash gpu-runner/model/run_gpu.sh train 1     # -> runs/pretrain4 (7,872 steps, 546 s)
  cp $OUT/weights.safetensors gpu-runner/artifacts/
  COMMIT=<sha> bash gpu-runner/model/run_gpu.sh train 2     # -> runs/pretrain4b (7,968 steps, 462 s)
  cp $OUT/weights.safetensors gpu-runner/artifacts/
  COMMIT=<sha> bash gpu-runner/model/run_gpu.sh finish      # export, parity, quality
The shipped weights were made at commit 1bd533c, before this file existed, by the same values given
as flags (manifest.json "training.command"):
  run_gpu.sh train: MINUTES=9.1 LR=8e-4 IMAGES=16 IMAGE_EVERY=3 COMPILE=1 BATCH=96 SEED=10;
  then INIT=1 MINUTES=7.7 LR=4e-4 IMAGES=16 IMAGE_EVERY=3 COMPILE=1 BATCH=96 SEED=11; then finish
Clips, noise and timesteps follow from the seed, but the budget is wall-clock time: a rerun comes close
to the shipped weights, not byte for byte.
"""
batch = 96
compile = True
# Every third step is an image step: one frame from each of 96 × 16 clips, the token count of a video
# step, as large video models are co-trained on images (shape is what video-only runs learned slowest).
images = 16
image_every = 3

stages = {
    1: dict(minutes=9.1, lr=8e-4, seed=10),
    2: dict(minutes=7.7, lr=4e-4, seed=11, init="../../artifacts/weights.safetensors"),  # stage 1's weights, copied there
    # Issue 24: continues stage 2's weights with half the video steps on sparse frame subsets (4 or 8 frames at
    # their original indices), so a sparse LoRA step is a clip the model knows. Not in the shipped weights: run once,
    # it closed the loss gap no further than a short run had and sparse LoRAs carried no more motion. Eager: the
    # four frame counts (1, 4, 8, 16) made torch.compile recompile for each, and a compiled run spent its budget
    # compiling (both in gpu-runner/evaluation/experiments/2026-12-05-sparse-weights-stage3).
    3: dict(minutes=4.5, lr=2e-4, seed=12, subsets=0.5, compile=False, init="../../artifacts/weights.safetensors"),
}
