# Sourced by tools/dist_*.sh: run a tool of this repository under torchrun on this node.
#   dist_run GPUS TOOL [tool arguments]
# NNODES (default 1), NODE_RANK (default 0), MASTER_ADDR (default 127.0.0.1) and PORT (default
# 29500) set a multi-node run; the interpreter is the one tools/venv.sh picks.
dist_run() {
  local gpus=$1 tool=$2 root
  shift 2
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  source "$root/tools/venv.sh"
  exec "$(sparsevit_python "$root")" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --nproc_per_node="$gpus" \
    --master_port="${PORT:-29500}" \
    "$root/tools/$tool" "$@"
}
