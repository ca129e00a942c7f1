#!/usr/bin/env bash
# The GPU run for the runner's engines: the torch engine against pure PyTorch and onnxruntime-node
# (WebGPU, CPU) on the same GPU, parity there, and MotionBench with the torch engine.
# From the project root on the GPU machine, after ../shared/tools/device-pack.sh here (carry .device):
#   bash gpu-runner/model/run_engine.sh bench                 # ~6 min: engines.ts + engine_bench.py + torch tests on CUDA
#   CLIPS=a,b NAME=h100-1 bash gpu-runner/model/run_engine.sh motion   # MotionBench rows for some clips
set -uo pipefail
source .device/boot.sh
OUT=${OUT:-/tmp/engine-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
case "${1:-bench}" in
  bench)
    (cd gpu-runner/model && python3 engine_bench.py --weights ../artifacts/weights.safetensors) > "$OUT/python-ref.json" 2> "$OUT/python-ref.log"
    node_modules/.bin/tsx gpu-runner/bench/engines.ts --engines torch,torch-fast,webgpu --reps 15 --python-ref "$OUT/python-ref.json" --out "$OUT" 2> "$OUT/engines.log"

    tail -3 "$OUT/python-ref.log" "$OUT/engines.log"; cat "$OUT/RESULTS-engines.md"
    ;;
  motion)
    MOTION_LORA_TORCH_DEVICE=cuda node test/run.mjs torch-engine > "$OUT/torch-engine-tests-cuda.log" 2>&1; grep -E "^# (pass|fail)" "$OUT/torch-engine-tests-cuda.log"
    node_modules/.bin/tsx gpu-runner/bench/motion.ts --engine torch --configs "${CONFIGS:-floor,fym,naive-two-stage,fym-no-sparse,fym-no-adaptive-rope,fym-no-decoupling}" \
      --clips "${CLIPS:?set CLIPS}" --name "${NAME:?set NAME}" --out "$OUT" > "$OUT/motion-$NAME.log" 2>&1
    tail -40 "$OUT/motion-$NAME.log"
    ;;
esac
