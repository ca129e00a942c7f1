#!/usr/bin/env bash
# For a CUDA machine that gets a copy of this tree rather than running `npm ci` (no registry there, or a
# cap on what can be copied): packs just the Node modules the GPU scripts import (onnxruntime-node for
# linux-x64, tsx, zod) into DIR/node_modules.tar.xz; unpack it at the project root there.
#   bash gpu-runner/model/pack-node-runtime.sh DIR [torch]    # torch: without onnxruntime (the torch-engine benchmarks load it lazily)
set -euo pipefail
out=${1:?usage: pack-node-runtime.sh DIR [torch]}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(git rev-parse --show-toplevel)"
ORT="node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/lib node_modules/onnxruntime-node/bin/napi-v6/linux/x64 node_modules/onnxruntime-common"
[ "${2:-}" = torch ] && ORT=""
tar -cf - $ORT node_modules/tsx node_modules/zod node_modules/.bin/tsx 2>/dev/null | xz -T0 -6 > "$out/node_modules.tar.xz"
du -sh "$out/node_modules.tar.xz"
