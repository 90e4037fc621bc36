#!/usr/bin/env bash
# Run the test suite; builds the environment first when it is missing.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh tests/test_sparsity.py -x`;
# SPARSEVIT_STACK=classic runs them in the classic stack's environment. The tests run in one
# worker per core (`-n 0` after the other arguments: in this process; SPARSEVIT_TEST_WORKERS).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tools/venv.sh"
bash "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
sparsevit_exec_pytest "$(sparsevit_venv "$ROOT")/bin/python" "$@"
