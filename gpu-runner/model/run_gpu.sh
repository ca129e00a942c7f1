#!/usr/bin/env bash
# The model's GPU run, in two calls because one device command is capped at 10 minutes:
#   train:  pretrain for MINUTES (default 8) -> $OUT/{weights.safetensors, train_log.json, loss.png, train.log}
#   finish: weights in gpu-runner/artifacts/ -> ONNX graphs + golden outputs + manifest (graphs.tar.xz),
#           parity (ONNX vs PyTorch, peft interchange) and quality on held-out captions (report.tar.xz)
#   sweep:  quality of WEIGHTS (default: the artifacts') under each of SAMPLERS (steps:guidance:shift,...),
#           plus captions seen in training -> $OUT/sweep-$NAME.tar.xz
# Usage on the device:  COMMIT=<sha> bash gpu-runner/model/run_gpu.sh train|finish [--small]
#   train options (env): MINUTES, BATCH, SEED, LR, IMAGES, IMAGE_EVERY, INIT=1 (continue from gpu-runner/artifacts/weights.safetensors), COMPILE=1
# The shipped weights (16.8 min of training in all): run 1 `MINUTES=9.1 LR=8e-4 IMAGES=16 IMAGE_EVERY=3 COMPILE=1 BATCH=96 SEED=10`,
# then run 2 `INIT=1 MINUTES=7.7 LR=4e-4 IMAGES=16 IMAGE_EVERY=3 COMPILE=1 BATCH=96 SEED=11` (runs/pretrain4, runs/pretrain4b).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export PYTHONUNBUFFERED=1
out=${OUT:?set OUT}
stage=${1:?train or finish}
small=${2:-}
work=$(mktemp -d)
export TRAINING_COMMIT=${COMMIT:-unknown}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$work/device.txt"
python3 -c 'import torch, onnx, onnxruntime; print("torch", torch.__version__, "onnx", onnx.__version__, "ort", onnxruntime.__version__)' | tee -a "$work/device.txt"
case "$stage" in
  train)
    cp "$work/device.txt" "$out/"
    python3 train.py --minutes "${MINUTES:-8}" --batch "${BATCH:-96}" --out "$out" --seed "${SEED:-0}" ${LR:+--lr $LR} \
      ${INIT:+--init "$here/../artifacts/weights.safetensors"} ${COMPILE:+--compile} ${IMAGES:+--images $IMAGES} ${IMAGE_EVERY:+--image-every $IMAGE_EVERY} $small 2>&1 | tee "$out/train.log"
    ;;
  finish)
    art="$here/../artifacts"
    export TRAINING_COMMAND="run_gpu.sh train: MINUTES=9.1 LR=8e-4 IMAGES=16 IMAGE_EVERY=3 COMPILE=1 BATCH=96 SEED=10; then INIT=1 MINUTES=7.7 LR=4e-4 IMAGES=16 IMAGE_EVERY=3 COMPILE=1 BATCH=96 SEED=11; then finish"
    # Quality needs only the weights: it runs beside the (CPU-bound) export.
    mkdir -p "$work/quality"
    (timeout 300 python3 quality.py --weights "$art/weights.safetensors" --out "$work/quality" ${QUALITY_N:+--n $QUALITY_N} --seen \
      --samplers "${SAMPLERS:-20:4:1,20:6:1,20:4:2}" > "$work/quality/quality.log" 2>&1 || true) &
    python3 export.py --weights "$art/weights.safetensors" --out "$work/artifacts" 2>&1 | tee "$work/export.log"
    # The graphs come back first: the 10-minute limit must not take them with it.
    tar -C "$work/artifacts" -cJf "$out/graphs.tar.xz" --exclude weights.safetensors .
    timeout 100 python3 parity.py --artifacts "$work/artifacts" --json "$work/parity.json" 2>&1 | tee "$work/parity.log" || true
    wait
    tar -C "$work" -cJf "$out/report.tar.xz" --exclude artifacts .
    ;;
  sweep)
    mkdir -p "$work/sweep-${NAME:-q}"
    python3 quality.py --weights "${WEIGHTS:-$here/../artifacts/weights.safetensors}" --out "$work/sweep-${NAME:-q}" --no-gifs --seen \
      --samplers "${SAMPLERS:-20:4:1}" 2>&1 | tee "$work/sweep-${NAME:-q}/quality.log" || true
    tar -C "$work" -cJf "$out/sweep-${NAME:-q}.tar.xz" "sweep-${NAME:-q}"
    ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
esac
ls -la "$out"
