#!/usr/bin/env bash
# Train on a slurm cluster: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [options]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK and SRUN_ARGS as in mmdet's script (tools/slurm_run.sh).
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/slurm_run.sh"
slurm_run "$1" "$2" train.py "$3" --work-dir "$4" "${@:5}"
