#!/usr/bin/env bash
# After ../shared/tools/device-pack.sh: replaces .device/node_modules.tar.xz with just what the GPU
# runs need (onnxruntime-node for linux-x64, tsx, zod), so .device plus the tree stay under the
# 64 MiB a device call carries. The tree travels as it is, the Python package (gpu-runner/model/fymnet,
# run as python3 -m fymnet.… from gpu-runner/model) with it.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
# `device-slim.sh torch` leaves onnxruntime out: the torch-engine benchmarks load it lazily and never need it.
ORT="node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/lib node_modules/onnxruntime-node/bin/napi-v6/linux/x64 node_modules/onnxruntime-common"
[ "${1:-}" = torch ] && ORT=""
tar -cf - $ORT node_modules/tsx node_modules/zod node_modules/.bin/tsx 2>/dev/null | xz -T0 -6 > .device/node_modules.tar.xz
du -sh .device/*
# pytest for `run_gpu.sh check`, which the GPU machine may lack: pure Python, copied from this machine's Debian packages.
if [ -d /usr/lib/python3/dist-packages/_pytest ]; then
  rm -rf .device/pylib && mkdir -p .device/pylib
  for m in pytest _pytest pluggy iniconfig packaging py.py; do cp -r /usr/lib/python3/dist-packages/$m .device/pylib/ 2>/dev/null || true; done
  find .device/pylib -name __pycache__ -prune -exec rm -rf {} +
fi
