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
