#!/usr/bin/env bash
# Build the project's Python environment from nothing, or check that it is built.
#
# Idempotent: a second run with unchanged requirements only verifies the stack.
#   SPARSEVIT_STACK  which stack of requirements/stacks/ to build: pinned (the default;
#                    Python 3.12, torch 2.14, numpy 2), classic (Python 3.10, torch 2.1) or
#                    gpu-twin (the GPU machine's Python 3.12, torch 2.11 and numpy 2)
#   SPARSEVIT_VENV   virtual environment to use     (default: <repo>/.venv, .venv-classic)
#   SPARSEVIT_CACHE  cache for the compiled mmcv     (default: ~/.cache/sparsevit)
#   PYTHON           interpreter for a new venv      (default: the stack's, found on PATH
#                    or under pyenv)
#   FORCE_CUDA=1     also compile mmcv's CUDA ops (needs nvcc); cached separately; an
#                    environment built so keeps them until FORCE_CUDA=0 is given
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${SPARSEVIT_STACK:-pinned}
STACK_FILE=$ROOT/requirements/stacks/$STACK.txt
source "$ROOT/tools/venv.sh"
VENV=$(sparsevit_venv "$ROOT")
CACHE=${SPARSEVIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparsevit}
CUDA_OPS=${FORCE_CUDA:-0}

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f "$STACK_FILE" ]] || die "unknown SPARSEVIT_STACK=$STACK: no $STACK_FILE (stacks: $(ls "$ROOT/requirements/stacks" | sed 's/\.txt$//' | tr '\n' ' '))"

pinned() {  # pinned version of a package in the stack's constraints
  sed -n -E "s/^$1==([^ ;#]+).*/\1/p" "$STACK_FILE"
}

stamp_value() {
  cat "$ROOT"/requirements/*.txt "$STACK_FILE" "$ROOT/setup.cfg" "$ROOT/setup.py" \
      "$ROOT/tools/bootstrap.sh" "$ROOT/tools/gpu/build_mmcv.sh" | sha256sum | cut -d' ' -f1
  echo "cuda=$CUDA_OPS"
  [[ "$CUDA_OPS" != 1 ]] || echo "arch=${TORCH_CUDA_ARCH_LIST:-native}"
}

check_stack() {
  SPARSEVIT_CUDA_OPS=$CUDA_OPS "$VENV/bin/python" - <<'EOF'
import os
import mmcv, mmdet, mmengine, mmseg, mmdet3d, timm, torch
from mmcv.ops import get_compiling_cuda_version, nms, RoIAlign, nms_rotated  # noqa: F401
import sparsevit  # noqa: F401
cuda = get_compiling_cuda_version()
if os.environ['SPARSEVIT_CUDA_OPS'] == '1' and cuda == 'not available':
    raise SystemExit('[bootstrap] FORCE_CUDA=1 but the installed mmcv has no CUDA ops')
ops = 'ops' if cuda == 'not available' else f'ops, CUDA {cuda}'
print(f'[bootstrap] ready: torch {torch.__version__}, mmcv {mmcv.__version__} ({ops}), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, '
      f'mmseg {mmseg.__version__}, mmdet3d {mmdet3d.__version__}, timm {timm.__version__}')
EOF
}

STAMP="$VENV/.sparsevit-bootstrap"
if [[ -z "${FORCE_CUDA:-}" && -f "$STAMP" ]] && grep -qx 'cuda=1' "$STAMP"; then
  # built with FORCE_CUDA=1: keep its CUDA ops (and architectures) unless FORCE_CUDA=0 is given
  CUDA_OPS=1
  BUILT_ARCH=$(sed -n 's/^arch=//p' "$STAMP")
  if [[ -z "${TORCH_CUDA_ARCH_LIST:-}" && -n "$BUILT_ARCH" && "$BUILT_ARCH" != native ]]; then
    export TORCH_CUDA_ARCH_LIST=$BUILT_ARCH
  fi
fi
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_value)" ]] && check_stack 2>/dev/null; then
  exit 0
fi

find_python() {  # an interpreter of version $1 (e.g. 3.10): on PATH, else under pyenv
  local found candidate
  for candidate in "python$1" $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python"$1" 2>/dev/null | sort -V -r); do
    found=$(command -v "$candidate" 2>/dev/null) || continue
    "$found" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$1'.split('.')))" \
      2>/dev/null && { echo "$found"; return; }
  done
}

# ---------------------------------------------------------------- interpreter
PY_VERSION=$(sed -n 's/^# python: *//p' "$STACK_FILE")
if [[ ! -x "$VENV/bin/python" ]]; then
  PY=${PYTHON:-$(find_python "$PY_VERSION")}
  [[ -n "$PY" ]] || die "no Python $PY_VERSION found (the $STACK stack's); install it or set PYTHON"
  "$PY" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$PY_VERSION'.split('.'))), sys.version" \
    || die "$PY is not Python $PY_VERSION (set PYTHON=/path/to/python$PY_VERSION)"
  log "creating virtual environment $VENV (Python $PY_VERSION, $STACK stack)"
  "$PY" -m venv "$VENV"
fi
pip_q() {  # quiet pip; drops the noise of machine-wide find-links that do not exist
  "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
}

log "installing build tools and torch $(pinned torch) / torchvision $(pinned torchvision)"
pip_q install "setuptools<82" wheel ninja psutil
pip_q install "torch==$(pinned torch)" "torchvision==$(pinned torchvision)" "numpy==$(pinned numpy)"
pip_q install "setuptools<82"  # torch pulls a newer one; mmcv's setup.py needs pkg_resources

# ---------------------------------------------------------------- mmcv with ops
# compiled (or taken from the cache) by the same script as on the GPU machine
MMCV_WHEEL=$(SPARSEVIT_CACHE=$CACHE FORCE_CUDA=$CUDA_OPS \
  bash "$ROOT/tools/gpu/build_mmcv.sh" "$VENV/bin/python" | tail -1)
pip_q install --no-deps --force-reinstall "$MMCV_WHEEL"

# ---------------------------------------------------------------- the rest of the stack
# the files `pip install -e .[all,tests]` reads, at the stack's versions; mmdet3d and
# nuscenes-devkit come from no-deps.txt, without their declared dependencies, and the 3D extra's
# numpy bound (the devkit's numpy<2) gives way to the stack's numpy
log "installing OpenMMLab packages, timm and test tools ($STACK stack)"
REQS=$(mktemp -d)
grep -v -E '^(mmdet3d|nuscenes-devkit|numpy)\b' "$ROOT/requirements/3d.txt" > "$REQS/3d-without-no-deps.txt"
pip_q install -c "$STACK_FILE" -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/seg.txt" \
  -r "$REQS/3d-without-no-deps.txt" -r "$ROOT/requirements/optional.txt" \
  -r "$ROOT/requirements/deploy.txt" -r "$ROOT/requirements/tests.txt"
rm -rf "$REQS"
pip_q install --no-deps -c "$STACK_FILE" -r "$ROOT/requirements/no-deps.txt"
pip_q install "setuptools<82"  # re-pin: some dependency may have pulled a newer one
pip_q install --no-deps --no-build-isolation -e "$ROOT"

check_stack || die "the environment is incomplete (see the import error above)"
stamp_value > "$STAMP"
