#!/usr/bin/env bash
# A rehearsal on the CPU of the GPU checks, on the GPU machine's twin (requirements/stacks/gpu-twin.txt):
#   1. a Python 3.12 environment with that machine's base packages, at its versions, from the
#      package index (requirements/stacks/gpu-machine-base.txt);
#   2. the wheelhouse (tools/gpu/make_wheelhouse.sh), the only source of everything else;
#   3. tools/gpu/run_checks.sh --device cpu with that environment's Python: offline install,
#      mmcv's CPU ops, the CUDA tests collected, short benchmarks, training and search.
#
#   bash tools/gpu/rehearse.sh [run_checks.sh options, e.g. --steps install,build] [-- PYTEST_ARGS]
#
# The results land in work_dirs/gpu_rehearsal unless --results says otherwise. With `--`, the
# test suite then runs in that environment (the wheelhouse's packages and the compiled mmcv):
# `-- -m "not slow or all_stacks"` is what CI runs there.
#
# The expensive parts are cached under SPARSEVIT_CACHE (default: ~/.cache/sparsevit), as
# tools/bootstrap.sh caches its mmcv: the environment keyed by the hash of the base list (torch
# version included), the wheelhouse (a rerun downloads only changed pins), the compiled mmcv
# keyed by torch version. A rerun on the same machine compiles nothing.
#   PYTHON   a Python 3.12 for the environment (default: python3.12 on PATH, else under pyenv)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/tools/venv.sh"
BASE=$ROOT/requirements/stacks/gpu-machine-base.txt
CACHE=${SPARSEVIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparsevit}

log() { printf '[rehearse] %s\n' "$*" >&2; }
die() { printf '[rehearse] ERROR: %s\n' "$*" >&2; exit 1; }

find_python312() {
  local candidate found
  for candidate in "${PYTHON:-}" python3.12 $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V -r); do
    [[ -n "$candidate" ]] || continue
    found=$(command -v "$candidate" 2>/dev/null) || continue
    "$found" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$found"; return; }
  done
}

CHECK_ARGS=() PYTEST_ARGS=() RUN_PYTEST=0
while (( $# )); do
  if [[ "$1" == -- ]]; then
    RUN_PYTEST=1
    shift
    PYTEST_ARGS=("$@")
    break
  fi
  CHECK_ARGS+=("$1")
  shift
done

start=$SECONDS
# ---------------------------------------------------------------- 1. the machine's base
KEY=$(cat "$BASE" | sha256sum | cut -c1-16)
VENV=$CACHE/venvs/gpu-twin-$KEY
if [[ ! -f "$VENV/.complete" ]]; then
  PY=$(find_python312)
  [[ -n "$PY" ]] || die 'no Python 3.12 found (the GPU machine has 3.12); install it or set PYTHON'
  log "building the GPU machine's base environment $VENV from the package index (a few GB: torch with its CUDA libraries)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip --disable-pip-version-check -q install -r "$BASE" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
  touch "$VENV/.complete"  # last: a killed build is rebuilt, never half used
else
  log "using the GPU machine's base environment $VENV"
fi
log "base ready after $(( SECONDS - start )) s"

# ---------------------------------------------------------------- 2. the wheelhouse
WHEELHOUSE=$CACHE/gpu-wheelhouse
PYTHON="$VENV/bin/python" bash "$ROOT/tools/gpu/make_wheelhouse.sh" "$WHEELHOUSE"
log "wheelhouse ready after $(( SECONDS - start )) s"

# ---------------------------------------------------------------- 3. the checks, on the CPU
rc=0
PYTHON="$VENV/bin/python" bash "$ROOT/tools/gpu/run_checks.sh" --device cpu \
  --wheelhouse "$WHEELHOUSE" --results "$ROOT/work_dirs/gpu_rehearsal" ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"} \
  || rc=$?
log "rehearsal finished in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s (exit status $rc)"

# ---------------------------------------------------------------- 4. the tests, on request
if (( RUN_PYTEST )); then
  tests_start=$SECONDS
  log "the test suite in the twin environment: pytest ${PYTEST_ARGS[*]}"
  # run_checks.sh installed the wheelhouse and mmcv into build/gpu-site, and puts the plugin on
  # the path in the same way
  export PYTHONPATH="$ROOT/build/gpu-site:$ROOT/projects/sparsevit${PYTHONPATH:+:$PYTHONPATH}"
  export PATH="$ROOT/build/gpu-site/bin:$PATH"
  (sparsevit_exec_pytest "$VENV/bin/python" ${PYTEST_ARGS[@]+"${PYTEST_ARGS[@]}"}) || rc=$?
  log "tests finished in $(( (SECONDS - tests_start) / 60 )) min $(( (SECONDS - tests_start) % 60 )) s"
fi
exit "$rc"
