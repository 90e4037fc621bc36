#!/usr/bin/env bash
# Run the test suite; builds the environment first when it is missing.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh tests/test_sparsity.py -x`;
# SPARSEVIT_STACK=classic runs them in the classic stack's environment.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tools/venv.sh"
bash "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
exec "$(sparsevit_venv "$ROOT")/bin/python" -m pytest "$@"
