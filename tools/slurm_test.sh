#!/usr/bin/env bash
# Test on a slurm cluster: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [options]
# GPUS, GPUS_PER_NODE, CPUS_PER_TASK and SRUN_ARGS as in mmdet's script (tools/slurm_run.sh).
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/slurm_run.sh"
slurm_run "$1" "$2" test.py "$3" "$4" "${@:5}"
