#!/usr/bin/env bash
# One GPU run, start to finish: pretrain -> export ONNX + golden outputs -> parity (ONNX vs PyTorch,
# peft interchange) -> quality on held-out captions. Everything it makes lands in $OUT:
#   weights.safetensors, graphs.tar.xz (ONNX graphs, manifest.json, vocab.json), report.tar.xz (logs,
#   loss.png, samples*.gif, parity.json, quality.json).
# Usage (device): MINUTES=7 COMMIT=<sha> bash gpu-runner/model/run_gpu.sh [--small]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export PYTHONUNBUFFERED=1
out=${OUT:?set OUT}
work=$(mktemp -d)
small=${1:-}
minutes=${MINUTES:-7}
export TRAINING_COMMIT=${COMMIT:-unknown}
export TRAINING_COMMAND="MINUTES=$minutes bash gpu-runner/model/run_gpu.sh $small (seed 0)"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$work/device.txt"
python3 -c 'import torch, onnx, onnxruntime; print("torch", torch.__version__, "onnx", onnx.__version__, "ort", onnxruntime.__version__)' | tee -a "$work/device.txt"
python3 train.py --minutes "$minutes" --out "$work/run" --seed 0 $small 2>&1 | tee "$work/train.log"
python3 export.py --weights "$work/run/weights.safetensors" --out "$work/artifacts" 2>&1 | tee "$work/export.log"
python3 parity.py --artifacts "$work/artifacts" --json "$work/parity.json" 2>&1 | tee "$work/parity.log" || true
python3 quality.py --artifacts "$work/artifacts" --out "$work" ${QUALITY_N:+--n $QUALITY_N} 2>&1 | tee "$work/quality.log" || true
cp "$work/artifacts/weights.safetensors" "$out/weights.safetensors"
tar -C "$work/artifacts" -cJf "$out/graphs.tar.xz" --exclude weights.safetensors .
cp "$work/run/loss.png" "$work/run/train_log.json" "$work/"
tar -C "$work" -cJf "$out/report.tar.xz" --exclude artifacts --exclude run .
ls -la "$out"
