#!/usr/bin/env bash
# The C++ compiler of mmcv's build (CXX): the real one, without debug information and with
# mmcv's common header precompiled. Neither changes the code it generates.
#
#   CXX=tools/gpu/mmcv_cxx.sh PCH_HEADER=<mmcv>/mmcv/ops/csrc/common/pytorch_cpp_helper.hpp
#   PCH_CXX   the real compiler (default: c++)
#
# Python's compiler flags carry -g: debug information takes half of each compile's time, and
# `-g0` (added last, so it wins) drops it. Most of mmcv's C++ sources start with
# `#include "pytorch_cpp_helper.hpp"`, which pulls in torch's ATen headers: parsing them is
# most of what is left. Before the first compile with a given set of flags, this script
# precompiles that header with exactly those flags into `<header>.gch/<hash of the flags>.gch`,
# where GCC looks for it. GCC uses a precompiled header only where it was made with compatible
# options, and reads the header itself otherwise; a precompilation that fails only costs its
# time.
set -uo pipefail

REAL=${PCH_CXX:-c++}
HEADER=${PCH_HEADER:-}
args=("$@")
compiles=0 source_file= flags=()
while (( $# )); do
  case $1 in
    -c) compiles=1 ;;
    -MMD | -MD) ;;
    -MF | -MT | -MQ | -o) shift ;;
    *.cpp | *.cc | *.cxx) source_file=$1 ;;
    *) flags+=("$1") ;;
  esac
  (( $# )) && shift
done
if (( compiles )); then
  args+=(-g0) flags+=(-g0)
fi

if (( compiles )) && [[ -n "$source_file" && -f "$HEADER" ]] && command -v flock >/dev/null; then
  dir=$HEADER.gch
  key=$(printf '%s\n' "$REAL" "${flags[@]}" | sha256sum | cut -c1-16)
  if [[ ! -f "$dir/$key.gch" && ! -f "$dir.$key.failed" ]] && mkdir -p "$dir"; then
    (
      flock 9
      if [[ ! -f "$dir/$key.gch" && ! -f "$dir.$key.failed" ]]; then
        # written beside the folder, then moved in: GCC tries every file in it
        if "$REAL" "${flags[@]}" -x c++-header "$HEADER" -o "$dir.$key" 2>/dev/null; then
          mv "$dir.$key" "$dir/$key.gch"
        else
          rm -f "$dir.$key"
          echo "mmcv_cxx.sh: could not precompile $HEADER; compiling without it" >&2
          touch "$dir.$key.failed"
        fi
      fi
    ) 9>"$dir.lock"
  fi
fi
exec "$REAL" "${args[@]}"
