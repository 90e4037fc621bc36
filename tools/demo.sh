#!/usr/bin/env bash
# The main job on built-in demo data; builds the environment first when it is missing.
# Dense training, sparsity-aware adaptation, latency-constrained search, fine-tuning and a
# final table, on a small Swin Mask R-CNN and generated shapes (recorded times on 2 cores:
# benchmarks/demo.md).
# Options go to tools/demo.py: --work-dir DIR, --data-root DIR, --quick.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tools/venv.sh"
bash "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
exec "$(sparsevit_venv "$ROOT")/bin/python" tools/demo.py "$@"
