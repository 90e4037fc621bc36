#!/usr/bin/env bash
# Search on a slurm cluster (the validation set is split over the tasks, latency is measured by
# the first): bash tools/slurm_search.sh PARTITION JOB_NAME CONFIG CHECKPOINT --latency-min MS
# --latency-max MS [search.py options]. GPUS etc. as for tools/slurm_train.sh.
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [search.py options]" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/slurm_run.sh"
slurm_run "$1" "$2" search.py "$3" "$4" "${@:5}"
