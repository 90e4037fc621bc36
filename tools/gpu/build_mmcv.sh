#!/usr/bin/env bash
# Compile mmcv 2.1.0 with its ops into a wheel for one interpreter, or take it from the cache.
#
#   bash tools/gpu/build_mmcv.sh PYTHON [SDIST]
#
# PYTHON must already import torch and setuptools<82 (mmcv's setup.py imports pkg_resources);
# SDIST is mmcv-2.1.0.tar.gz (default: downloaded with PYTHON's pip, which honours PIP_NO_INDEX
# and PIP_FIND_LINKS). Prints the path of the wheel as its last line on stdout; logs go to stderr.
#   FORCE_CUDA=1           also compile the CUDA ops (needs nvcc on PATH, or CUDA_HOME)
#   TORCH_CUDA_ARCH_LIST   GPU architectures of the CUDA ops (default: the local GPU's)
#   MAX_JOBS               parallel compilations (default: all cores)
#   SPARSEVIT_CACHE        cache of compiled wheels (default: ~/.cache/sparsevit), keyed by
#                          mmcv, torch, Python, C++ standard and, with CUDA, its version and
#                          architectures: a rerun on the same machine does not recompile
set -euo pipefail

MMCV_VERSION=2.1.0
PY=${1:?usage: build_mmcv.sh PYTHON [SDIST]}
SDIST=${2:-}
CACHE=${SPARSEVIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparsevit}
CUDA_OPS=${FORCE_CUDA:-0}

log() { printf '[mmcv] %s\n' "$*" >&2; }
pip_q() {  # quiet pip; drops the noise of machine-wide find-links that do not exist
  "$PY" -m pip --disable-pip-version-check -q "$@" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
}
die() { printf '[mmcv] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -z "$SDIST" || -f "$SDIST" ]] || die "no such source distribution: $SDIST"
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)') \
  || die "$PY cannot import torch"
PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
# torch >= 2.10 headers require C++20; mmcv hard-codes -std=c++14 / c++17 (cxx and nvcc)
NEEDS_CXX20=$("$PY" -c 'import torch; print(int(tuple(map(int, torch.__version__.split("+")[0].split(".")[:2])) >= (2, 10)))')
KEY="mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PY_TAG"
[[ "$NEEDS_CXX20" == 0 ]] || KEY="$KEY-cxx20"
if [[ "$CUDA_OPS" == 1 ]]; then
  KEY="$KEY-cuda$("$PY" -c 'import torch; print(torch.version.cuda)')-${TORCH_CUDA_ARCH_LIST:-native}"
fi
KEY=${KEY// /_}
WHEEL_DIR="$CACHE/wheels/$KEY"

if ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
  log "using cached mmcv wheel from $WHEEL_DIR"
  ls "$WHEEL_DIR"/mmcv-*.whl
  exit 0
fi

compile_progress() {  # a line a minute while mmcv compiles in $1; ends with this script
  local csrc=$1/mmcv/ops/csrc/pytorch start=$SECONDS total
  total=$(ls "$csrc"/*.cpp "$csrc"/cpu/*.cpp | wc -l)
  if [[ "$CUDA_OPS" == 1 ]]; then
    total=$(( total + $(ls "$csrc"/cuda/*.cu "$csrc"/cuda/*.cpp | wc -l) ))
  fi
  while sleep 60 </dev/null >/dev/null 2>&1 && kill -0 $$ 2>/dev/null; do
    log "  $(find "$1" -name '*.o' 2>/dev/null | wc -l) of $total sources compiled after $(( (SECONDS - start) / 60 )) min"
  done
}

BUILD=$(mktemp -d)
PROGRESS=
trap 'kill $PROGRESS 2>/dev/null; rm -rf "$BUILD"' EXIT
if [[ "$CUDA_OPS" == 1 ]]; then
  # torch takes the toolkit to be the parent of nvcc's folder, which is wrong when nvcc on
  # PATH is a wrapper (e.g. /usr/local/bin/nvcc): ask nvcc where its toolkit is
  if [[ -z "${CUDA_HOME:-}" ]]; then
    if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
      export PATH="/usr/local/cuda/bin:$PATH"
    fi
    command -v nvcc >/dev/null || die "FORCE_CUDA=1 needs nvcc on PATH (or CUDA_HOME)"
    NVCC_TOP=$(nvcc --dryrun -c -x cu /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p')
    [[ -n "$NVCC_TOP" ]] || die "could not find the CUDA toolkit of $(command -v nvcc); set CUDA_HOME"
    CUDA_HOME=$(realpath "$NVCC_TOP")
    export CUDA_HOME
  fi
  [[ -x "$CUDA_HOME/bin/nvcc" ]] || die "CUDA_HOME=$CUDA_HOME has no bin/nvcc"
  log "CUDA toolkit: $CUDA_HOME (nvcc $("$CUDA_HOME/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
  # a toolkit without the CUDA libraries' headers (cusparse.h, ...): take them from the
  # nvidia wheels that torch's CUDA build installed (searched after the toolkit's own)
  if [[ ! -f "$CUDA_HOME/include/cusparse.h" ]]; then
    NV_INCLUDE=$("$PY" -c 'import glob, os, torch
hits = glob.glob(os.path.join(os.path.dirname(torch.__path__[0]), "nvidia", "*", "include", "cusparse.h"))
print(os.path.dirname(hits[0]) if hits else "")')
    if [[ -n "$NV_INCLUDE" ]]; then
      export CPATH="${CPATH:+$CPATH:}$NV_INCLUDE"
      export NVCC_APPEND_FLAGS="${NVCC_APPEND_FLAGS:+$NVCC_APPEND_FLAGS }-I$NV_INCLUDE"
    fi
  fi
  log "compiling mmcv $MMCV_VERSION with CPU and CUDA ops (architectures ${TORCH_CUDA_ARCH_LIST:-native}) against torch $TORCH_VERSION, ${MAX_JOBS:-$(nproc)} jobs (about 35 minutes on 2 cores)"
else
  log "compiling mmcv $MMCV_VERSION with ops against torch $TORCH_VERSION, ${MAX_JOBS:-$(nproc)} jobs (a few minutes on 2 cores)"
fi
if [[ -z "$SDIST" ]]; then
  pip_q download --no-deps --no-binary :all: --no-build-isolation -d "$BUILD" \
    "mmcv==$MMCV_VERSION"
  SDIST=$(ls "$BUILD"/mmcv-*.tar.gz)
fi
tar -xzf "$SDIST" -C "$BUILD"
SRC="$BUILD/mmcv-$MMCV_VERSION"
[[ -f "$SRC/setup.py" ]] || die "$SDIST is not mmcv $MMCV_VERSION's source distribution"
# Python 3.13 (PEP 667): exec() in a function no longer writes what locals() reads, which
# mmcv's get_version() relies on; an explicit namespace works on every Python
sed -i -e "s/exec(compile(f.read(), version_file, 'exec'))/exec(compile(f.read(), version_file, 'exec'), globals())/" \
  -e "s/return locals()\['__version__'\]/return globals()['__version__']/" "$SRC/setup.py"
grep -q "return globals()\['__version__'\]" "$SRC/setup.py" || die "could not patch mmcv's version lookup"
if [[ "$NEEDS_CXX20" == 1 ]]; then
  sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
  grep -q -- '-std=c++20' "$SRC/setup.py" || die "could not patch mmcv's C++ standard flag"
fi
if [[ "$CUDA_OPS" == 1 ]]; then
  # its slowest source (minutes alone) first, so that the other jobs run beside it, not after
  sed -i 's/sources=op_files,/sources=sorted(op_files, key=lambda f: not f.endswith("filtered_lrelu.cu")),/' \
    "$SRC/setup.py"
fi
# no debug information and mmcv's common header precompiled once (tools/gpu/mmcv_cxx.sh): the
# same code, compiled several times faster
export PCH_CXX=${CXX:-c++} PCH_HEADER=$SRC/mmcv/ops/csrc/common/pytorch_cpp_helper.hpp
export CXX="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mmcv_cxx.sh"
compile_progress "$SRC" & PROGRESS=$!
start=$SECONDS
MMCV_WITH_OPS=1 FORCE_CUDA=$CUDA_OPS MAX_JOBS=${MAX_JOBS:-$(nproc)} \
  pip_q wheel --no-build-isolation --no-deps --no-cache-dir -w "$BUILD/dist" "$SRC" >&2
log "compiled in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
mkdir -p "$CACHE/wheels"
STAGE=$(mktemp -d "$CACHE/wheels/.staging.XXXXXX")
cp "$BUILD"/dist/mmcv-*.whl "$STAGE/"
rm -rf "$WHEEL_DIR"
mv "$STAGE" "$WHEEL_DIR"  # atomic: a killed build never leaves a half-written cache entry
log "cached $(basename "$WHEEL_DIR"/mmcv-*.whl) in $WHEEL_DIR"
ls "$WHEEL_DIR"/mmcv-*.whl
