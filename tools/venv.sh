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
