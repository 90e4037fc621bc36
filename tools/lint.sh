#!/usr/bin/env bash
# Lint every tracked file with the project's pre-commit hooks (flake8, isort); builds the
# environment first when it is missing. Extra arguments go to `pre-commit run`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/tools/venv.sh"
bash "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
VENV=$(sparsevit_venv "$ROOT")
PATH="$VENV/bin:$PATH" exec "$VENV/bin/pre-commit" run --all-files --show-diff-on-failure "$@"
