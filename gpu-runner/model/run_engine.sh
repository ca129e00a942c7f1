#!/usr/bin/env bash
# The GPU run for the runner's engines: the torch engine against pure PyTorch and onnxruntime-node
# (WebGPU, CPU) on the same GPU, and parity there. MotionBench has its own script (run_bench.sh).
# From the project root on a CUDA machine with PyTorch, Node ≥ 20 and this repository's node_modules (npm ci):
#   bash gpu-runner/model/run_engine.sh bench                 # ~6 min: engines.ts + fymnet.evaluation.engine_bench + torch tests on CUDA
set -uo pipefail
command -v node >/dev/null && [ -x node_modules/.bin/tsx ] || { echo "run_engine.sh needs Node ≥ 20 on PATH and node_modules (npm ci) in $(pwd)" >&2; exit 2; }
OUT=${OUT:-/tmp/engine-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
case "${1:-bench}" in
  bench)
    (cd gpu-runner/model && python3 -m fymnet.evaluation.engine_bench --weights ../artifacts/weights.safetensors) > "$OUT/engines-python-ref-h100.json" 2> "$OUT/python-ref.log"
    node_modules/.bin/tsx gpu-runner/evaluation/speed/engines.ts --engines torch,torch-fast,webgpu --reps 15 --python-ref "$OUT/engines-python-ref-h100.json" --tag h100 --out "$OUT" 2> "$OUT/engines.log"

    tail -3 "$OUT/python-ref.log" "$OUT/engines.log"; cat "$OUT/RESULTS-engines-h100.md"
    ;;
esac
