#!/usr/bin/env bash
# Build the project's Python environment from nothing, or check that it is built.
#
# Idempotent: a second run with unchanged requirements only verifies the stack.
#   SPARSEVIT_VENV   virtual environment to use     (default: <repo>/.venv)
#   SPARSEVIT_CACHE  cache for the compiled mmcv     (default: ~/.cache/sparsevit)
#   PYTHON           interpreter for a new venv      (default: python3.11, else python3)
#   FORCE_CUDA=1     also compile mmcv's CUDA ops (needs nvcc); cached separately
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${SPARSEVIT_VENV:-$ROOT/.venv}
CACHE=${SPARSEVIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparsevit}
MMCV_VERSION=2.1.0
CUDA_OPS=${FORCE_CUDA:-0}

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

pinned() {  # pinned version of a package in requirements.txt
  sed -n -E "s/^$1==([^ ;#]+).*/\1/p" "$ROOT/requirements.txt"
}

stamp_value() {
  cat "$ROOT/requirements.txt" "$ROOT/requirements/no-deps.txt" "$ROOT/setup.cfg" \
      "$ROOT/tools/bootstrap.sh" | sha256sum | cut -d' ' -f1
  echo "cuda=$CUDA_OPS"
}

check_stack() {
  "$VENV/bin/python" - <<'EOF'
import mmcv, mmdet, mmengine, mmseg, mmdet3d, timm, torch
from mmcv.ops import nms, RoIAlign, nms_rotated  # noqa: F401  compiled ops
import sparsevit  # noqa: F401
print(f'[bootstrap] ready: torch {torch.__version__}, mmcv {mmcv.__version__} (ops), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, '
      f'mmseg {mmseg.__version__}, mmdet3d {mmdet3d.__version__}, timm {timm.__version__}')
EOF
}

STAMP="$VENV/.sparsevit-bootstrap"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_value)" ]] && check_stack 2>/dev/null; then
  exit 0
fi

# ---------------------------------------------------------------- interpreter
if [[ ! -x "$VENV/bin/python" ]]; then
  PY=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
  [[ -n "$PY" ]] || die "no python3 found; install Python 3.11"
  "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || die "$PY is not Python 3.11 (set PYTHON=/path/to/python3.11)"
  log "creating virtual environment $VENV"
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
TORCH_VERSION=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')
PY_TAG=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
KEY="mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PY_TAG-cxx20"
if [[ "$CUDA_OPS" == 1 ]]; then
  KEY="$KEY-cuda$("$VENV/bin/python" -c 'import torch; print(torch.version.cuda)')-${TORCH_CUDA_ARCH_LIST:-native}"
fi
KEY=${KEY// /_}
WHEEL_DIR="$CACHE/wheels/$KEY"
if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
  BUILD=$(mktemp -d)
  trap 'rm -rf "$BUILD"' EXIT
  log "compiling mmcv $MMCV_VERSION with ops against torch $TORCH_VERSION (about 10 minutes on 2 cores)"
  pip_q download --no-deps --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
  tar -xzf "$BUILD"/mmcv-*.tar.gz -C "$BUILD"
  SRC="$BUILD/mmcv-$MMCV_VERSION"
  # torch >= 2.10 headers require C++20; mmcv hard-codes -std=c++14 / c++17 (cxx and nvcc).
  sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
  grep -q -- '-std=c++20' "$SRC/setup.py" || die "could not patch mmcv's C++ standard flag"
  if [[ "$CUDA_OPS" == 1 ]]; then
    # nvcc without the CUDA libraries' headers (cusparse.h, ...): take them from the nvidia
    # wheels that torch's CUDA build installed (searched after the toolkit's own)
    NV_INCLUDE=$("$VENV/bin/python" -c 'import glob, os, torch
hits = glob.glob(os.path.join(os.path.dirname(torch.__path__[0]), "nvidia", "*", "include", "cusparse.h"))
print(os.path.dirname(hits[0]) if hits else "")')
    if [[ -n "$NV_INCLUDE" ]]; then
      export CPATH="${CPATH:+$CPATH:}$NV_INCLUDE"
      export NVCC_APPEND_FLAGS="${NVCC_APPEND_FLAGS:+$NVCC_APPEND_FLAGS }-I$NV_INCLUDE"
    fi
  fi
  MMCV_WITH_OPS=1 FORCE_CUDA=$CUDA_OPS MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    pip_q wheel --no-build-isolation --no-deps --no-cache-dir -w "$BUILD/dist" "$SRC"
  mkdir -p "$CACHE/wheels"
  STAGE=$(mktemp -d "$CACHE/wheels/.staging.XXXXXX")
  cp "$BUILD"/dist/mmcv-*.whl "$STAGE/"
  rm -rf "$WHEEL_DIR"
  mv "$STAGE" "$WHEEL_DIR"  # atomic: a killed build never leaves a half-written cache entry
  log "cached $(basename "$WHEEL_DIR"/mmcv-*.whl) in $WHEEL_DIR"
else
  log "using cached mmcv wheel from $WHEEL_DIR"
fi
pip_q install --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl

# ---------------------------------------------------------------- the rest of the stack
log "installing OpenMMLab packages, timm and test tools"
pip_q install -r "$ROOT/requirements.txt"
pip_q install --no-deps -r "$ROOT/requirements/no-deps.txt"
pip_q install "setuptools<82"  # re-pin: some dependency may have pulled a newer one
pip_q install --no-deps --no-build-isolation -e "$ROOT"

check_stack || die "the environment is incomplete (see the import error above)"
stamp_value > "$STAMP"
