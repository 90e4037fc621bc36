# Sourced by tools/slurm_*.sh: run a tool of this repository as a slurm job step.
#   slurm_run PARTITION JOB_NAME TOOL [tool arguments]
# GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5) and SRUN_ARGS
# (extra srun options) shape the job: one task per GPU, the tool launched with --launcher slurm.
slurm_run() {
  local partition=$1 job_name=$2 tool=$3 root
  shift 3
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  source "$root/tools/venv.sh"
  local gpus=${GPUS:-8} gpus_per_node=${GPUS_PER_NODE:-8} cpus_per_task=${CPUS_PER_TASK:-5}
  local -a srun_args
  read -r -a srun_args <<< "${SRUN_ARGS:-}"
  PYTHONPATH="$root/projects/sparsevit${PYTHONPATH:+:$PYTHONPATH}" exec srun \
    --partition="$partition" --job-name="$job_name" --gres="gpu:$gpus_per_node" \
    --ntasks="$gpus" --ntasks-per-node="$gpus_per_node" --cpus-per-task="$cpus_per_task" \
    --kill-on-bad-exit=1 "${srun_args[@]}" \
    "$(sparsevit_python "$root")" -u "$root/tools/$tool" "$@" --launcher slurm
}
