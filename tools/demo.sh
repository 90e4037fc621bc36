#!/usr/bin/env bash
# The main job on built-in demo data; builds the environment first when it is missing.
# Today: the backbone latency benchmark of the default configurations (Swin-T, 672x672,
# batch 1, fp32, 2 CPU threads) against mmdet's dense SwinTransformer.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
exec "${SPARSEVIT_VENV:-$ROOT/.venv}/bin/python" tools/analysis/benchmark_latency.py \
  --size 672 672 --batch 1 --threads 2 --out work_dirs/demo/latency.json "$@"
