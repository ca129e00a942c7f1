#!/usr/bin/env bash
# The model's GPU runs, each mode one run of at most 10 minutes (a long job resumes from the last run's files). Python runs from
# gpu-runner/model as the fymnet package (python3 -m fymnet.<module>).
#   train STAGE [FLAGS]: one stage of the shipped recipe, recipes/pretrain.py (its docstring lists the
#           calls that made the shipped weights); FLAGS override its values (e.g. --minutes 1 --small)
#           -> $OUT/{weights.safetensors, train_log.json, loss.png, train.log}
#   finish: weights in gpu-runner/artifacts/ -> ONNX graphs + golden outputs + manifest (graphs.tar.xz),
#           parity (ONNX vs PyTorch, peft interchange), quality on held-out captions and the frame-subset
#           loss gap (beside PREVIOUS_WEIGHTS' when set) (report.tar.xz)
#   check:  the package on the GPU machine's PyTorch: the pytest suite (export + ONNX parity of a tiny
#           config included) and parity of the committed artifacts against this code -> $OUT/check.log
#   subsets: issue 17's sparse-pretraining probe: continues the artifacts' weights for SUB_S seconds twice,
#           as pretrained (control) and with half the video steps on sparse frame subsets (--subsets 0.5),
#           then measures the frame-subset loss gap of all three -> $OUT/{control,subsets}.safetensors, frame-subsets.json
#   sweep:  quality of WEIGHTS (default: the artifacts') under each of SAMPLERS (steps:guidance:shift,...),
#           plus captions seen in training -> $OUT/sweep-$NAME.tar.xz
# Usage on a CUDA machine, from anywhere:  OUT=DIR COMMIT=<sha> bash gpu-runner/model/run_gpu.sh train 1|train 2|train 3|finish|check|subsets|sweep
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export PYTHONUNBUFFERED=1
out=${OUT:?set OUT}
mode=${1:?train, finish, check, subsets or sweep}
shift
work=$(mktemp -d)
export TRAINING_COMMIT=${COMMIT:-unknown}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$work/device.txt"
python3 -c 'import torch, onnx, onnxruntime; print("torch", torch.__version__, "onnx", onnx.__version__, "ort", onnxruntime.__version__)' | tee -a "$work/device.txt"
case "$mode" in
  train)
    cp "$work/device.txt" "$out/"
    stage=${1:?train needs a stage of recipes/pretrain.py (1 or 2)}
    shift
    python3 -m fymnet.training.pretrain --recipe recipes/pretrain.py --stage "$stage" --out "$out" "$@" 2>&1 | tee "$out/train.log"
    ;;
  finish)
    art="$here/../artifacts"
    export TRAINING_COMMAND=${TRAINING_COMMAND:-"run_gpu.sh train 1; then train 2; then train 3 (recipes/pretrain.py); then finish"}
    # Quality needs only the weights: it runs beside the (CPU-bound) export.
    mkdir -p "$work/quality"
    (timeout "${QUALITY_S:-300}" python3 -m fymnet.evaluation.quality --weights "$art/weights.safetensors" --out "$work/quality" ${QUALITY_N:+--n $QUALITY_N} --seen \
      --samplers "${SAMPLERS:-20:4:1,20:6:1,20:4:2}" > "$work/quality/quality.log" 2>&1 || true) &
    # The frame-subset loss gap of these weights, beside PREVIOUS_WEIGHTS' if given (issue 24's measure of sparse steps).
    [ -n "${PREVIOUS_WEIGHTS:-}" ] && prev=(--weights "$PREVIOUS_WEIGHTS") || prev=()
    (timeout 150 python3 -m fymnet.evaluation.frame_subsets --clips 512 --batch 64 --out "$work/frame-subsets.json" \
      "${prev[@]}" --weights "$art/weights.safetensors" > "$work/frame-subsets.log" 2>&1 || true) &
    python3 -m fymnet.export --weights "$art/weights.safetensors" --out "$work/artifacts" 2>&1 | tee "$work/export.log"
    # The graphs come back first: the 10-minute limit must not take them with it.
    tar -C "$work/artifacts" -cJf "$out/graphs.tar.xz" --exclude weights.safetensors .
    timeout "${PARITY_S:-100}" python3 -m fymnet.evaluation.parity --artifacts "$work/artifacts" --json "$work/parity.json" 2>&1 | tee "$work/parity.log" || true
    wait
    tar -C "$work" -cJf "$out/report.tar.xz" --exclude artifacts .
    ;;
  check)
    python3 -c "import pytest" 2>/dev/null || { echo "check needs pytest (pip install pytest, or put one on PYTHONPATH)" >&2; exit 2; }
    python3 -m pytest -q -rs -p no:cacheprovider tests 2>&1 | tee "$out/check.log" || echo "pytest failed; parity runs anyway" | tee -a "$out/check.log"
    timeout 200 python3 -m fymnet.evaluation.parity --artifacts "$here/../artifacts" --json "$out/parity.json" 2>&1 | tee -a "$out/check.log"
    ;;
  subsets)
    min=$(python3 -c "print(${SUB_S:-90} / 60)")
    common=(--init "$here/../artifacts/weights.safetensors" --minutes "$min" --lr 2e-4 --batch 96 --images 16 --image-every 3 --seed 12)
    python3 -m fymnet.training.pretrain --out "$work/control" "${common[@]}" 2>&1 | tail -2 | tee "$out/control.log"
    python3 -m fymnet.training.pretrain --out "$work/subsets" "${common[@]}" --subsets 0.5 2>&1 | tail -2 | tee "$out/subsets.log"
    cp "$work/control/weights.safetensors" "$out/control.safetensors"; cp "$work/subsets/weights.safetensors" "$out/subsets.safetensors"
    python3 -m fymnet.evaluation.frame_subsets --clips 512 --batch 64 --out "$out/frame-subsets.json" \
      --weights "$here/../artifacts/weights.safetensors" --weights "$work/control/weights.safetensors" --weights "$work/subsets/weights.safetensors" > "$out/frame-subsets.log" 2>&1
    ;;
  sweep)
    mkdir -p "$work/sweep-${NAME:-q}"
    python3 -m fymnet.evaluation.quality --weights "${WEIGHTS:-$here/../artifacts/weights.safetensors}" --out "$work/sweep-${NAME:-q}" --no-gifs --seen \
      --samplers "${SAMPLERS:-20:4:1}" 2>&1 | tee "$work/sweep-${NAME:-q}/quality.log" || true
    tar -C "$work" -cJf "$out/sweep-${NAME:-q}.tar.xz" "sweep-${NAME:-q}"
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
ls -la "$out"
