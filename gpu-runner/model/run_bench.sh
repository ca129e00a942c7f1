#!/usr/bin/env bash
# The GPU run for MotionBench and batched tuning (torch engine, CUDA graphs), one call each mode.
# From the project root on a CUDA machine with PyTorch, Node ≥ 20 and this repository's node_modules (npm ci):
#   [RECIPES=default,name] [DEFINE='{"name":{...}}'] [SIZES=1,8,32] [TF32=1] [TESTS=0] bash gpu-runner/model/run_bench.sh batched  # CUDA tests of the torch engine, tunes/min against N
#   EXPERIMENT=YYYY-MM-DD-name CONFIGS=... RECIPES=file.json [BATCH=64] [TF32=1] bash gpu-runner/model/run_bench.sh sweep
#       # recipes side by side on 16 cases (4 per category), into gpu-runner/evaluation/experiments/$EXPERIMENT/ (never overwritten)
#   [EXPERIMENT=YYYY-MM-DD-name CONFIGS=... RECIPES=file.json] bash gpu-runner/model/run_bench.sh full
#       # the whole MotionBench (48 cases × 3 prompts × 3 seeds): floor, FYM, naive, ablations (≤ 10 min); with EXPERIMENT
#       # into gpu-runner/evaluation/experiments/$EXPERIMENT/ instead of the shipped benchmark's results file
# Everything lands in $OUT/bench.tar.gz (reports, GIFs, per-case caches) plus the RESULTS-*.md/.json files,
# named as gpu-runner/evaluation/results/ keeps them (copy them there and commit: one file per benchmark and engine).
set -uo pipefail
command -v node >/dev/null && [ -x node_modules/.bin/tsx ] || { echo "run_bench.sh needs Node ≥ 20 on PATH and node_modules (npm ci) in $(pwd)" >&2; exit 2; }
OUT=${OUT:-/tmp/bench-out}
W=/tmp/mb-work  # outside the tree: a later call re-syncs the tree and would remove it
mkdir -p "$OUT" $W
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $W/gpu.txt 2>&1
TSX=node_modules/.bin/tsx
case "${1:-sweep}" in
  sweep)
    timeout "${SWEEP_S:-330}" $TSX gpu-runner/evaluation/motionbench/motionbench.ts --engine torch --tag sweep-torch-h100 --out $W --cases 4 --seeds 2 --prompts 1 --batch "${BATCH:-16}" ${TF32:+--tf32} \
      --experiment "${EXPERIMENT:?set EXPERIMENT (a new name: YYYY-MM-DD-what)}" --configs "${CONFIGS:?set CONFIGS}" --recipes "${RECIPES:-{\}}" > $W/sweep.log 2>&1
    tail -c 3000 $W/sweep.log | tr '\r' '\n' | tail -5
    tar -czf "$OUT/experiment.tar.gz" -C gpu-runner/evaluation/experiments "$EXPERIMENT"  # unpack into gpu-runner/evaluation/experiments/ and commit
    ;;
  batched)  # CUDA tests of the torch engine (batched = sequential included; TESTS=0 skips them) and tunes/min against N
    [ "${TESTS:-1}" != 0 ] && { MOTION_LORA_TORCH_DEVICE=cuda timeout 150 node test/run.mjs torch-engine > $W/torch-engine-tests-cuda.log 2>&1; grep -E "^# (pass|fail)" $W/torch-engine-tests-cuda.log; }
    timeout 240 $TSX gpu-runner/evaluation/speed/batched.ts --sizes "${SIZES:-1,8,32}" --recipes "${RECIPES:-default}" --define "${DEFINE:-{\}}" ${TF32:+--tf32} --tag torch-h100 --out $W > $W/batched.log 2>&1; tail -12 $W/batched.log
    ;;
  full)  # TESTS=1 runs the torch engine's CUDA tests first; TF32=1 runs the benchmark with TF32 matmuls
    [ -n "${TESTS:-}" ] && { MOTION_LORA_TORCH_DEVICE=cuda timeout 100 node test/run.mjs torch-engine > $W/torch-engine-tests-cuda.log 2>&1; grep -E "^# (pass|fail)" $W/torch-engine-tests-cuda.log; }
    timeout "${FULL_S:-540}" $TSX gpu-runner/evaluation/motionbench/motionbench.ts --engine torch --tag torch-h100 --out $W --batch 48 --gen-batch 64 ${TF32:+--tf32} \
      --configs "${CONFIGS:-floor,default,decoupled-dense,naive-two-stage,naive-aug,fym-sparse}" --recipes "${RECIPES:-{\}}" ${EXPERIMENT:+--experiment "$EXPERIMENT"} > $W/full.log 2>&1
    tail -c 3000 $W/full.log | tr '\r' '\n' | tail -5
    [ -n "${EXPERIMENT:-}" ] && tar -czf "$OUT/experiment.tar.gz" -C gpu-runner/evaluation/experiments "$EXPERIMENT"
    ;;
esac
cp $W/RESULTS-*.md $W/RESULTS-*.json "$OUT"/ 2>/dev/null
tar -czf "$OUT/bench.tar.gz" --exclude="*.safetensors" -C /tmp mb-work  # LoRAs stay behind: 16 MiB a file comes back
grep -A16 "^## Motion fidelity by config" $W/RESULTS-motionbench-*.md 2>/dev/null | head -40
