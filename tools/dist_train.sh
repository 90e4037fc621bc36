#!/usr/bin/env bash
# Distributed training with torchrun: bash tools/dist_train.sh CONFIG GPUS [train.py options]
# NNODES, NODE_RANK, MASTER_ADDR and PORT set a multi-node run (tools/dist_run.sh).
set -euo pipefail
CONFIG=$1
GPUS=$2
source "$(dirname "${BASH_SOURCE[0]}")/dist_run.sh"
dist_run "$GPUS" train.py "$CONFIG" --launcher pytorch "${@:3}"
