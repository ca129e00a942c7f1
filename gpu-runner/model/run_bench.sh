#!/usr/bin/env bash
# The GPU run for MotionBench and batched tuning (torch engine, CUDA graphs), one call each mode.
# From the project root on the GPU machine, after ../shared/tools/device-pack.sh and
# gpu-runner/model/device-slim.sh here (carry .device):
#   bash gpu-runner/model/run_bench.sh sweep    # CUDA tests, tunes/min vs N, recipe sweep on 16 cases (≤ 10 min)
#   bash gpu-runner/model/run_bench.sh full     # the whole MotionBench: floor, FYM, naive, ablations (≤ 10 min)
# Everything lands in $OUT/bench.tar.gz (reports, GIFs, per-case caches) plus the Markdown reports.
set -uo pipefail
source .device/boot.sh
OUT=${OUT:-/tmp/bench-out}
mkdir -p "$OUT" work
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > work/gpu.txt 2>&1
TSX=node_modules/.bin/tsx
case "${1:-sweep}" in
  sweep)
    MOTION_LORA_TORCH_DEVICE=cuda timeout 150 node test/run.mjs torch-engine > work/torch-engine-tests-cuda.log 2>&1; grep -E "^# (pass|fail)" work/torch-engine-tests-cuda.log
    timeout 120 $TSX gpu-runner/bench/batched.ts --sizes 1,8,32 --recipes fym --out work > work/batched.log 2>&1; tail -8 work/batched.log
    timeout "${SWEEP_S:-330}" $TSX gpu-runner/bench/motionbench.ts --engine torch --tag sweep --out work --cases 4 --seeds 2 --prompts 1 --batch 16 \
      --configs "${CONFIGS:?set CONFIGS}" --recipes "${RECIPES:-{\}}" > work/sweep.log 2>&1
    tail -c 3000 work/sweep.log | tr '\r' '\n' | tail -5
    ;;
  full)
    timeout "${FULL_S:-540}" $TSX gpu-runner/bench/motionbench.ts --engine torch --tag h100 --out work --batch 48 --gen-batch 64 \
      --configs "${CONFIGS:-floor,fym,naive-two-stage,fym-no-sparse,fym-no-adaptive-rope,fym-no-decoupling}" --recipes "${RECIPES:-{\}}" > work/full.log 2>&1
    tail -c 3000 work/full.log | tr '\r' '\n' | tail -5
    ;;
esac
cp work/RESULTS-*.md "$OUT"/ 2>/dev/null
tar -czf "$OUT/bench.tar.gz" work
grep -A16 "^## Motion fidelity by config" work/RESULTS-motionbench-*.md 2>/dev/null | head -40
