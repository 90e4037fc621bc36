#!/usr/bin/env bash
# Download the GPU machine's wheelhouse: on a machine with the package index, before copying
# the repository (with its wheelhouse/) to a GPU machine that has no network.
#
#   bash tools/gpu/make_wheelhouse.sh [DIR]      (default DIR: <repo>/wheelhouse, git-ignored)
#
# Takes every line of requirements/stacks/gpu-wheelhouse.txt alone, without its dependencies
# (the file lists the transitive ones itself), as the wheel for CPython 3.12 on manylinux
# x86_64, whatever this machine runs; mmcv as its source distribution. A file already there is
# kept, a file of no pin is removed, so a rerun downloads only what changed. Writes SHA256SUMS
# and prints the total size.
#   PYTHON   interpreter whose pip downloads (default: python3; any Python >= 3.8)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PINS=$ROOT/requirements/stacks/gpu-wheelhouse.txt
DIR=${1:-$ROOT/wheelhouse}
PY=${PYTHON:-python3}
PLATFORMS=(manylinux2014_x86_64 manylinux_2_17_x86_64 manylinux_2_24_x86_64
           manylinux_2_27_x86_64 manylinux_2_28_x86_64 manylinux1_x86_64)
MAX_MIB=60

log() { printf '[wheelhouse] %s\n' "$*" >&2; }
die() { printf '[wheelhouse] ERROR: %s\n' "$*" >&2; exit 1; }

pip_q() {  # quiet pip; drops the noise of machine-wide find-links that do not exist
  "$1" -m pip --disable-pip-version-check -q "${@:2}" \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
}

pins() {  # NAME==VERSION of every pin line
  sed -E 's/[[:space:]]*#.*//' "$PINS" | grep -v '^[[:space:]]*$'
}

normalized() {  # a distribution's name as wheel and sdist file names spell it
  echo "$1" | tr '[:upper:]-.' '[:lower:]__'
}

"$PY" -m pip --version >/dev/null 2>&1 || die "$PY has no pip (set PYTHON)"
bad=$(pins | grep -v -E '^[A-Za-z0-9._-]+==[A-Za-z0-9.+!_-]+$' || true)
[[ -z "$bad" ]] || die "$PINS: not an exact NAME==VERSION pin: $bad"
mkdir -p "$DIR"
platform_args=()
for p in "${PLATFORMS[@]}"; do platform_args+=(--platform "$p"); done

have() {  # is the file of pin $1 (NAME==VERSION) already in DIR?
  local name version
  name=$(normalized "${1%%==*}") version=${1#*==}
  compgen -G "$DIR/${name}-${version}-*.whl" >/dev/null || compgen -G "$DIR/${name}-${version}.tar.gz" >/dev/null
}

start=$SECONDS
SDIST_PIN=
for pin in $(pins); do
  if [[ "${pin%%==*}" == mmcv ]]; then SDIST_PIN=$pin; continue; fi
  have "$pin" && continue
  log "downloading $pin"
  pip_q "$PY" download --no-deps --only-binary :all: --implementation cp --python-version 3.12 \
    "${platform_args[@]}" -d "$DIR" "$pin" || die "no wheel of $pin for CPython 3.12 on manylinux x86_64"
done

# mmcv's source distribution: pip prepares its metadata, which runs mmcv's setup.py; that needs
# setuptools < 82 (pkg_resources) and nothing else, so a throw-away environment that holds the
# pinned setuptools of the wheelhouse does it, whatever this machine's Python has
if [[ -n "$SDIST_PIN" ]] && ! have "$SDIST_PIN"; then
  log "downloading $SDIST_PIN (source distribution)"
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  "$PY" -m venv "$TMP/venv"
  pip_q "$TMP/venv/bin/python" install --no-index --no-deps "$DIR"/setuptools-*.whl
  pip_q "$TMP/venv/bin/python" download --no-deps --no-binary :all: --no-build-isolation \
    -d "$DIR" "$SDIST_PIN"
fi

# files of no pin (an earlier version): removed, so that the offline install finds one version
wanted=$(for pin in $(pins); do echo "$(normalized "${pin%%==*}")-${pin#*==}"; done)
for file in "$DIR"/*.whl "$DIR"/*.tar.gz; do
  [[ -e "$file" ]] || continue
  base=$(basename "$file")
  stem=$(normalized "$(echo "$base" | sed -E 's/^([^-]+)-([^-]+)(-.*\.whl|\.tar\.gz)$/\1/')")-$(echo "$base" | sed -E 's/^([^-]+)-([^-]+)(-.*\.whl|\.tar\.gz)$/\2/')
  grep -qx -- "$stem" <<<"$wanted" || { log "removing $base (no pin)"; rm -f "$file"; }
done

count=$(pins | wc -l)
files=$(ls "$DIR"/*.whl "$DIR"/*.tar.gz | wc -l)
[[ "$files" == "$count" ]] || die "$files files in $DIR for $count pins"
(cd "$DIR" && sha256sum ./*.whl ./*.tar.gz | sed 's# \./# #' > SHA256SUMS)
bytes=$(cat "$DIR"/*.whl "$DIR"/*.tar.gz | wc -c)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
log "$files files, $mib MiB in $DIR ($(( SECONDS - start )) s)"
awk -v b="$bytes" -v m="$MAX_MIB" 'BEGIN { exit !(b <= m * 1048576) }' \
  || die "the wheelhouse is $mib MiB, over its $MAX_MIB MiB"
echo "wheelhouse: $files files, $mib MiB total in $DIR"
