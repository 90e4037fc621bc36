#!/usr/bin/env bash
# Run the test suite; builds the environment first when it is missing.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh tests/test_sparsity.py -x`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
exec "${SPARSEVIT_VENV:-$ROOT/.venv}/bin/python" -m pytest "$@"
