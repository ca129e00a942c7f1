"""python -m fymnet.export --weights DIR/weights.safetensors --out ARTIFACTS_DIR [--sparse-frames 4] [--commit SHA] [--command TEXT]

The commit and command that made the weights are recorded in manifest.json (default: the
TRAINING_COMMIT and TRAINING_COMMAND variables run_gpu.sh sets).
"""
from __future__ import annotations

import argparse
import os

from fymnet.export.artifacts import export_artifacts


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m fymnet.export")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sparse-frames", type=int, default=4)
    ap.add_argument("--commit", default=os.environ.get("TRAINING_COMMIT", "unknown"))
    ap.add_argument("--command", default=os.environ.get("TRAINING_COMMAND", ""))
    args = ap.parse_args()
    export_artifacts(args.weights, args.out, args.sparse_frames, args.commit, args.command)


if __name__ == "__main__":
    main()
