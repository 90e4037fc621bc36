# Sourced by the tools/*.sh scripts: the virtual environment of the chosen stack.
# SPARSEVIT_VENV wins; else <repo>/.venv for the pinned stack, <repo>/.venv-<stack> for another.
sparsevit_venv() {
  local root=$1 stack=${SPARSEVIT_STACK:-pinned}
  if [[ -n "${SPARSEVIT_VENV:-}" ]]; then
    echo "$SPARSEVIT_VENV"
  elif [[ "$stack" == pinned ]]; then
    echo "$root/.venv"
  else
    echo "$root/.venv-$stack"
  fi
}

# The interpreter the launch scripts run: PYTHON wins; else the stack's environment when it is
# built; else `python` from PATH (an environment of your own, e.g. on a cluster).
sparsevit_python() {
  local venv
  venv=$(sparsevit_venv "$1")
  if [[ -n "${PYTHON:-}" ]]; then
    echo "$PYTHON"
  elif [[ -x "$venv/bin/python" ]]; then
    echo "$venv/bin/python"
  else
    echo python
  fi
}

# pytest's arguments for one worker per core (pytest-xdist; at most 4, for memory), each test
# file on one worker: the suite is mostly small operations that one thread runs as fast as two.
# None when the interpreter $1 lacks pytest-xdist or SPARSEVIT_TEST_WORKERS=0; the workers and
# their subprocesses run one thread each (OMP_NUM_THREADS, unless set).
sparsevit_test_workers() {
  local workers=${SPARSEVIT_TEST_WORKERS:-$(( $(nproc) < 4 ? $(nproc) : 4 ))}
  if (( workers > 1 )) && "$1" -c 'import xdist' 2>/dev/null; then
    echo "-n $workers --dist loadfile"
  fi
}
