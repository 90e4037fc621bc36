#!/usr/bin/env bash
# Prove the plugin on a bare GPU machine in one go, offline: install from the wheelhouse,
# compile mmcv's ops, run the CUDA tests, time the backbones, train and search on demo data.
#
#   bash tools/gpu/run_checks.sh [--device cuda|cpu] [--results DIR] [--wheelhouse DIR]
#                                [--steps install,build,tests,benchmark,search] [--budget S] [--plan]
#
# Runs from the repository root of a copy with its wheelhouse (tools/gpu/make_wheelhouse.sh);
# needs no network. Every step has its own time limit, a failed step does not stop the others,
# and the end prints which steps passed (exit status 0 only if all did).
#   --device cuda    (default) compile mmcv's CUDA ops for the local GPU with all cores, run
#                    `pytest tests -m cuda`, time on the GPU; --device cpu rehearses every step on
#                    the CPU, shortened: CPU ops (cached), the CUDA tests only collected
#   --results DIR    where the logs and figures land (default: $OUT when set, else
#                    work_dirs/gpu_checks): summary.txt, run_checks.log, the benchmarks' JSON
#                    files and results.tar.gz (every step's log and outputs), at most 8 files
#                    of at most 16 MiB each, refreshed after every step
#   --wheelhouse DIR default: <repo>/wheelhouse
#   --steps LIST     the steps to run, comma-separated (default: all five, in order)
#   --budget S       seconds for the whole run: each step's limit is cut to what is left
#                    (default: 570 with cuda, to end inside a 10-minute command; none with cpu)
#   --plan           print the steps, their limits and estimates, and run nothing
# Environment: PYTHON (default: python3, the one that holds torch), SPARSEVIT_CACHE (compiled
# mmcv wheels, as tools/bootstrap.sh), MAX_JOBS (default: all cores), TORCH_CUDA_ARCH_LIST
# (default: the local GPU's).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=$ROOT/tools/gpu/run_checks.sh
STEPS_ALL=(install build tests benchmark search)

usage() { sed -n '2,/^set -uo/p' "$SELF" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { printf 'run_checks: %s\n' "$*" >&2; exit 2; }

# per step: limit with cuda, limit with cpu (seconds), estimate on the GPU machine, what it checks
declare -A LIMIT_CUDA=([install]=90 [build]=480 [tests]=150 [benchmark]=150 [search]=150)
declare -A LIMIT_CPU=([install]=300 [build]=2400 [tests]=600 [benchmark]=900 [search]=1200)
declare -A ESTIMATE=([install]=20 [build]=300 [tests]=45 [benchmark]=60 [search]=50)
declare -A WHAT=(
  [install]='offline install of the wheelhouse (--no-index --no-deps) beside the machine'"'"'s own packages; pip check'
  [build]='mmcv 2.1.0 compiled with its ops (CUDA ops for the local GPU), installed, ops checked against the CPU'
  [tests]='pytest tests -m cuda (with --device cpu: collected only)'
  [benchmark]='Swin-T backbone latencies against mmdet'"'"'s dense Swin, round-robin: 672x672 batch 4 fp32 and fp16, 1024x2048 batch 1, six cameras at 256x704'
  [search]='demo data, a short SAA training, a latency-constrained search timed on the device'
)

DEVICE=cuda RESULTS=${OUT:-} WHEELHOUSE=$ROOT/wheelhouse STEPS=$(IFS=,; echo "${STEPS_ALL[*]}")
BUDGET= PLAN=0 ONLY_STEP=
while (( $# )); do
  case $1 in
    --device) DEVICE=${2:-}; shift 2 || die '--device needs cuda or cpu' ;;
    --results) RESULTS=${2:-}; shift 2 || die '--results needs a folder' ;;
    --wheelhouse) WHEELHOUSE=${2:-}; shift 2 || die '--wheelhouse needs a folder' ;;
    --steps) STEPS=${2:-}; shift 2 || die '--steps needs a comma-separated list' ;;
    --budget) BUDGET=${2:-}; shift 2 || die '--budget needs seconds' ;;
    --plan) PLAN=1; shift ;;
    --step-only) ONLY_STEP=${2:-}; shift 2 ;;  # internal: one step, in its own process
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$DEVICE" == cuda || "$DEVICE" == cpu ]] || die "--device must be cuda or cpu, not '$DEVICE'"
[[ -z "$BUDGET" || "$BUDGET" =~ ^[0-9]+$ ]] || die "--budget must be whole seconds, not '$BUDGET'"
[[ -n "$BUDGET" || "$DEVICE" == cpu ]] || BUDGET=570
IFS=, read -r -a STEPS_RUN <<<"$STEPS"
for s in "${STEPS_RUN[@]}"; do
  [[ -n "${WHAT[$s]:-}" ]] || die "unknown step '$s' (steps: ${STEPS_ALL[*]})"
done
limit_of() { if [[ "$DEVICE" == cuda ]]; then echo "${LIMIT_CUDA[$1]}"; else echo "${LIMIT_CPU[$1]}"; fi; }

if (( PLAN )); then
  printf '%-10s %8s %9s  %s\n' step 'limit s' 'GPU est.' 'what it checks'
  for s in "${STEPS_RUN[@]}"; do
    printf '%-10s %8s %9s  %s\n' "$s" "$(limit_of "$s")" "${ESTIMATE[$s]}" "${WHAT[$s]}"
  done
  echo "device: $DEVICE; budget: ${BUDGET:-none} s; wheelhouse: $WHEELHOUSE"
  exit 0
fi

# ---------------------------------------------------------------- shared by every step
PY=${PYTHON:-python3}
SITE=$ROOT/build/gpu-site         # the wheelhouse's packages (pip --target)
WORK=$ROOT/build/gpu-checks       # every step's logs and outputs, archived into RESULTS
PINS=$ROOT/requirements/stacks/gpu-wheelhouse.txt
case ":${PYTHONPATH:-}:" in
  *":$SITE:"*) ;;
  *) export PYTHONPATH="$SITE:$ROOT/projects/sparsevit${PYTHONPATH:+:$PYTHONPATH}" ;;
esac
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg
cd "$ROOT"

offline_pip() {  # pip that reads no configuration and no index: the wheelhouse alone
  env $(env | sed -n 's/^\(PIP_[A-Z_]*\)=.*/-u \1/p') PIP_CONFIG_FILE=/dev/null \
    "$PY" -m pip --disable-pip-version-check "$@"
}

step_install() {
  echo "== environment"
  "$PY" -c 'import sys, torch; print(sys.executable, sys.version.split()[0], "torch", torch.__version__,
"CUDA", torch.version.cuda, "GPU", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'
  { nvidia-smi 2>/dev/null || true; command -v nvcc >/dev/null && nvcc --version; \
    gcc --version 2>/dev/null | head -1; echo "cores: $(nproc)"; free -g 2>/dev/null; \
    "$PY" -m pip list --format=freeze 2>/dev/null; } > "$WORK/environment.txt"
  grep -E '^(torch|torchvision|numpy|opencv-python-headless|timm|setuptools)==' "$WORK/environment.txt" || true
  echo "== wheelhouse $WHEELHOUSE"
  [[ -f "$WHEELHOUSE/SHA256SUMS" ]] || { echo "no $WHEELHOUSE/SHA256SUMS: run tools/gpu/make_wheelhouse.sh first"; return 1; }
  (cd "$WHEELHOUSE" && sha256sum --quiet -c SHA256SUMS) || { echo 'the wheelhouse does not match its SHA256SUMS'; return 1; }
  sed -E 's/[[:space:]]*#.*//' "$PINS" | grep -v -E '^[[:space:]]*$|^mmcv==' > "$WORK/wheels.txt"
  rm -rf "$SITE"
  offline_pip install -q --no-index --no-deps --find-links "$WHEELHOUSE" --target "$SITE" \
    -r "$WORK/wheels.txt" || return 1
  # mmsegmentation's and model-index's wheels install a top-level `tests` package: it must not
  # shadow this repository's
  rm -rf "$SITE/tests"
  echo "installed $(ls -d "$SITE"/*.dist-info | wc -l) distributions into $SITE"
  echo "== pip check (the declared needs the wheelhouse leaves out on purpose are expected)"
  local left_out unexpected
  left_out=$(sed -n 's/^# left out: \([^(]*\).*/\1/p' "$PINS" | tr ' A-Z' '\na-z' | grep -v '^$')
  offline_pip check > "$WORK/pip-check.txt" 2>&1 || true  # lists what the wheelhouse leaves out
  cat "$WORK/pip-check.txt"
  unexpected=$(sed -n 's/.* requires \([^,]*\), which is not installed\./\1/p' "$WORK/pip-check.txt" \
    | tr 'A-Z' 'a-z' | grep -v -x -F "$left_out" || true)
  [[ -z "$unexpected" ]] || { echo "missing from the wheelhouse: $unexpected"; return 1; }
}

step_build() {
  local wheel
  if [[ "$DEVICE" == cuda ]]; then
    export FORCE_CUDA=1
    if [[ -z "${TORCH_CUDA_ARCH_LIST:-}" ]]; then
      TORCH_CUDA_ARCH_LIST=$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability(0))') \
        || { echo 'no CUDA device visible to torch'; return 1; }
      export TORCH_CUDA_ARCH_LIST
    fi
  else
    export FORCE_CUDA=0
  fi
  export MAX_JOBS=${MAX_JOBS:-$(nproc)}
  echo "FORCE_CUDA=$FORCE_CUDA TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-} MAX_JOBS=$MAX_JOBS"
  echo "C++ compiler: $(c++ --version 2>/dev/null | head -1)"
  local include
  include=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  [[ -f "$include/Python.h" ]] || { echo "no Python.h in $include: compiling mmcv needs Python's headers"; return 1; }
  local start=$SECONDS
  wheel=$(bash "$ROOT/tools/gpu/build_mmcv.sh" "$PY" "$WHEELHOUSE"/mmcv-2.1.0.tar.gz | tail -1) \
    || return 1
  echo "mmcv wheel ready in $(( SECONDS - start )) s: $wheel"
  offline_pip install -q --no-index --no-deps --upgrade --target "$SITE" "$wheel" || return 1
  "$PY" - "$DEVICE" <<'EOF'
import sys
import torch
import mmcv
from mmcv.ops import RoIAlign, get_compiling_cuda_version, nms
import mmdet, mmdet3d, mmengine, mmseg  # noqa: F401
import sparsevit  # noqa: F401  checks the versions of the stack
print(f'mmcv {mmcv.__version__}, ops compiled with CUDA {get_compiling_cuda_version()}; '
      f'mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmdet3d {mmdet3d.__version__}')
if sys.argv[1] == 'cuda':
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=gen) * 200
    boxes = torch.cat([xy, xy + 10 + torch.rand(200, 2, generator=gen) * 40], 1)
    scores = torch.rand(200, generator=gen)
    keep_cpu = nms(boxes, scores, 0.5)[1]
    keep_gpu = nms(boxes.cuda(), scores.cuda(), 0.5)[1].cpu()
    assert torch.equal(keep_cpu, keep_gpu), 'nms differs between CPU and CUDA'
    feats = torch.rand(2, 8, 32, 32, generator=gen)
    rois = torch.tensor([[0, 1.0, 2.0, 20.0, 25.0], [1, 5.0, 5.0, 30.0, 18.0]])
    align = RoIAlign((7, 7), 0.5, 2)
    out_cpu, out_gpu = align(feats, rois), align(feats.cuda(), rois.cuda()).cpu()
    assert torch.allclose(out_cpu, out_gpu, atol=1e-5), 'RoIAlign differs between CPU and CUDA'
    print(f'CUDA ops on {torch.cuda.get_device_name(0)}: nms ({len(keep_gpu)} kept) and RoIAlign '
          'equal to the CPU ops')
EOF
}

step_tests() {
  # the files that hold tests marked cuda; a module elsewhere that fails to import here (one
  # that needs git, say) must not stop them
  "$PY" -m pytest tests -m cuda -q -p no:cacheprovider --collect-only \
    --continue-on-collection-errors > "$WORK/cuda-tests.txt" 2>&1 || true
  local files errored dirs
  files=$(grep '::' "$WORK/cuda-tests.txt" | sed 's/::.*//' | sort -u | tr '\n' ' ')
  errored=$(sed -n 's/^ERROR \([^ ]*\).*/\1/p' "$WORK/cuda-tests.txt" | sort -u)
  if [[ -n "$errored" ]]; then
    echo "test modules that failed to import here:" $errored
    # one beside the cuda tests (or in a cuda folder) may hold cuda tests itself: a failure
    dirs=$(for f in $files; do dirname "$f"; done | sort -u)
    for f in $errored; do
      if [[ "$f" == */cuda/* ]] || grep -qx -- "$(dirname "$f")" <<<"$dirs"; then
        echo "$f holds tests beside the cuda ones and does not import (cuda-tests.txt)"
        return 1
      fi
    done
  fi
  if [[ -z "$files" ]]; then
    echo 'no test is marked cuda'
    [[ "$DEVICE" == cpu ]]  # an error only where they should run
    return
  fi
  echo "$(grep -c '::' "$WORK/cuda-tests.txt") tests marked cuda in: $files"
  if [[ "$DEVICE" == cuda ]]; then
    # shellcheck disable=SC2086  # one word per file
    "$PY" -m pytest $files -m cuda -q -p no:cacheprovider --junitxml="$WORK/tests-cuda.xml"
  else
    echo 'no GPU: the CUDA tests are collected, not run'
  fi
}

benchmark() {  # NAME ARGS...: one run of the latency tool, its JSON beside the logs
  local name=$1
  shift
  echo "== benchmark $name"
  "$PY" tools/analysis/benchmark_latency.py --device "$DEVICE" --out "$WORK/benchmark_$name.json" "$@"
}

step_benchmark() {
  local failed=0
  if [[ "$DEVICE" == cuda ]]; then
    benchmark swin-t_672_b4_fp32 --size 672 672 --batch 4 --dtype fp32 || failed=1
    benchmark swin-t_672_b4_fp16 --size 672 672 --batch 4 --dtype fp16 || failed=1
    benchmark swin-t_1024x2048_b1_fp32 --size 1024 2048 --batch 1 --dtype fp32 || failed=1
    benchmark swin-t_256x704_b6_fp32 --size 256 704 --batch 6 --dtype fp32 || failed=1
  else  # the same four runs, small and short (figures of no meaning: a rehearsal)
    local short=(--warmup 1 --runs 2 --threads "$(nproc)" --sparsity dense --sparsity uniform-0.6
                 --sparsity searched-0.6)
    benchmark swin-t_224_b2_fp32 --size 224 224 --batch 2 --dtype fp32 "${short[@]}" || failed=1
    benchmark swin-t_224_b2_fp16 --size 224 224 --batch 2 --dtype fp16 "${short[@]}" || failed=1
    benchmark swin-t_256x512_b1_fp32 --size 256 512 --batch 1 --dtype fp32 "${short[@]}" || failed=1
    benchmark swin-t_128x352_b6_fp32 --size 128 352 --batch 6 --dtype fp32 "${short[@]}" || failed=1
  fi
  return "$failed"
}

step_search() {
  local data=$WORK/demo_coco cfg=$WORK/saa_demo.py iters train val pop budget runs
  if [[ "$DEVICE" == cuda ]]; then
    iters=40 train=32 val=8 pop=6 budget=12 runs=10
  else
    iters=4 train=8 val=3 pop=4 budget=6 runs=2
  fi
  echo "== demo data: $train train / $val val images"
  "$PY" tools/dataset_converters/generate_demo_coco.py "$data" --num-train "$train" \
    --num-val "$val" --size 256 256 || return 1
  cat > "$cfg" <<EOF
# the demo's SAA config on the generated data, $iters iterations (written by run_checks.sh)
_base_ = '$ROOT/configs/demo/mask-rcnn_swin-mini-p4-w7_fpn_saa_demo-coco.py'
data_root = '$data/'
train_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_iters=$iters, val_interval=$iters)
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=$iters, eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(interval=$iters), logger=dict(interval=10))
randomness = dict(seed=0)
EOF
  echo "== SAA training: $iters iterations on $DEVICE"
  "$PY" tools/train.py "$cfg" --work-dir "$WORK/saa" || return 1
  echo "== search: population $pop, $budget proposals, latency on $DEVICE"
  "$PY" tools/search.py "$cfg" "$WORK/saa/iter_$iters.pth" --work-dir "$WORK/search" \
    --latency-device "$DEVICE" --latency-shape 256 256 --latency-warmup 2 --latency-runs "$runs" \
    --latency-min 0 --latency-max 100000 --population "$pop" --parents 2 --budget "$budget" \
    --val-size "$val" --threads "$(nproc)"
}

if [[ -n "$ONLY_STEP" ]]; then  # a step's own process: any command that fails ends it
  set -e
  mkdir -p "$WORK"
  "step_$ONLY_STEP"
  exit 0
fi

# ---------------------------------------------------------------- the run
RESULTS=${RESULTS:-$ROOT/work_dirs/gpu_checks}
mkdir -p "$RESULTS" || die "cannot write $RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"
export PY WORK SITE DEVICE WHEELHOUSE PINS
exec > >(tee "$RESULTS/run_checks.log") 2>&1

cap() {  # $1 at most 16 MiB: the head and the end of a longer file
  local size
  size=$(stat -c %s "$1")
  if (( size > 16 * 1024 * 1024 )); then
    { head -c 1048576 "$1"; printf '\n[... %d bytes cut ...]\n' "$(( size - 15 * 1048576 ))";
      tail -c 14680064 "$1"; } > "$1.cut" && mv "$1.cut" "$1"
  fi
}

publish() {  # the summary, the benchmarks' JSON and an archive of WORK into RESULTS
  local f
  printf '%-10s %-10s %7s %7s  %s\n' step status seconds 'limit' 'log' > "$RESULTS/summary.txt.new"
  printf '%s\n' "${ROWS[@]}" >> "$RESULTS/summary.txt.new"
  mv "$RESULTS/summary.txt.new" "$RESULTS/summary.txt"
  for f in "$WORK"/benchmark_*.json; do [[ -e "$f" ]] && cp "$f" "$RESULTS/"; done
  for f in "$WORK"/*.log; do [[ -e "$f" ]] && cap "$f"; done
  tar -czf "$RESULTS/results.tar.gz.new" --exclude='*.pth' --exclude='demo_coco' \
    -C "$(dirname "$WORK")" "$(basename "$WORK")" \
    && mv "$RESULTS/results.tar.gz.new" "$RESULTS/results.tar.gz"
  cap "$RESULTS/results.tar.gz"
}

echo "run_checks: device $DEVICE, steps ${STEPS_RUN[*]}, budget ${BUDGET:-none} s, python $PY"
echo "results: $RESULTS"
ROWS=() PASSED=() FAILED=()
begin=$SECONDS
for s in "${STEPS_RUN[@]}"; do
  limit=$(limit_of "$s")
  if [[ -n "$BUDGET" ]]; then
    left=$(( BUDGET - (SECONDS - begin) - 10 ))
    (( left < limit )) && limit=$left
  fi
  log=$(printf '%d-%s.log' "${#ROWS[@]}" "$s")
  if (( limit < 20 )); then
    ROWS+=("$(printf '%-10s %-10s %7s %7s  %s' "$s" 'no time' - - -)")
    FAILED+=("$s")
    publish
    continue
  fi
  echo
  echo "======== $s (limit $limit s): ${WHAT[$s]}"
  t0=$SECONDS
  timeout -k 15 "$limit" bash "$SELF" --device "$DEVICE" --wheelhouse "$WHEELHOUSE" \
    --step-only "$s" 2>&1 | tee "$WORK/$log"
  rc=${PIPESTATUS[0]}
  took=$(( SECONDS - t0 ))
  case $rc in
    0) status=passed; PASSED+=("$s") ;;
    124|137) status='timed out'; FAILED+=("$s") ;;
    *) status="failed:$rc"; FAILED+=("$s") ;;
  esac
  echo "======== $s: $status in $took s"
  ROWS+=("$(printf '%-10s %-10s %7d %7d  %s' "$s" "$status" "$took" "$limit" "$log")")
  publish
done

echo
echo "======== summary ($DEVICE, $(( SECONDS - begin )) s in all; results in $RESULTS)"
cat "$RESULTS/summary.txt"
echo "passed: ${PASSED[*]:-none}"
echo "failed: ${FAILED[*]:-none}"
(( ${#FAILED[@]} == 0 ))
