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

# Run pytest with the interpreter $1 and the arguments after it, in one worker per core
# (pytest-xdist, at most 4, for memory; SPARSEVIT_TEST_WORKERS to change it), each test file on one
# worker, the workers and their subprocesses on one thread each (OMP_NUM_THREADS, unless set): the
# suite is mostly small operations that one thread runs as fast as two. In one process when the
# interpreter lacks pytest-xdist or SPARSEVIT_TEST_WORKERS=0. Replaces the calling shell (exec).
sparsevit_exec_pytest() {
  local py=$1 workers=${SPARSEVIT_TEST_WORKERS:-$(( $(nproc) < 4 ? $(nproc) : 4 ))}
  shift
  if (( workers > 1 )) && "$py" -c 'import xdist' 2>/dev/null; then
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    exec "$py" -m pytest -n "$workers" --dist loadfile "$@"
  fi
  exec "$py" -m pytest "$@"
}
