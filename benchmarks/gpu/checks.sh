#!/usr/bin/env bash
# The GPU checks (benchmarks/gpu/README.md): trainer.main on the digits MLP and the housing
# Wide & Deep under MirroredStrategy, with XLA off and on, and the refusal of mixed_float16 with
# XLA; then trainer.bench on the small models. Run from the repository root:
#   bash benchmarks/gpu/checks.sh
# Logs and JSON go to $OUT (default $TMPDIR/trainer_gpu), the runs' workdirs to $RUNS (default
# $OUT/runs; each run starts afresh). HOUSING_CSV=PATH/TO/housing.csv reads that file instead of
# the one the housing config downloads and caches on its first run.
set -u
# shellcheck source=SCRIPTDIR/setup.sh
source benchmarks/gpu/setup.sh || exit 1
RUNS=${RUNS:-$OUT/runs}
HOUSING=()
[ -n "${HOUSING_CSV:-}" ] && HOUSING=(--config.data.args.path="$HOUSING_CSV")
step() { echo; echo "===== $1 ($(date +%T))"; }
quiet() { grep -v "^W0000\|^I0000\|WARNING: All\|UserWarning\|data_adapter\|oneDNN\|meta_optimizer"; }
run() { # NAME TIMEOUT_S FLAGS...: one trainer.main run from a fresh workdir, then its results.
  local name=$1 limit=$2
  shift 2
  step "$name"
  rm -rf "${RUNS:?}/$name"  # An existing workdir would resume (or find the run finished).
  timeout "$limit" python3 -m trainer.main --workdir="$RUNS/$name" --progress=quiet "$@" \
    >"$OUT/$name.log" 2>&1
  echo "rc=$?"
  grep -E "^error|precision|Done" "$OUT/$name.log" | tail -3
}
run digits_mirrored 150 --strategy=mirrored --config.train.jit_compile=False
run digits_mirrored_xla 150 --strategy=mirrored --config.train.jit_compile=True
run digits_mirrored_xla_float16 100 --strategy=mirrored --config.train.jit_compile=True \
  --config.precision=mixed_float16  # Refused: exit 2 with advice.
run wide_deep_mirrored 200 --config=configs/california_wide_deep.py --strategy=mirrored \
  --config.train.jit_compile=False \
  ${HOUSING[@]+"${HOUSING[@]}"}
run wide_deep_mirrored_xla 200 --config=configs/california_wide_deep.py --strategy=mirrored \
  --config.train.jit_compile=True ${HOUSING[@]+"${HOUSING[@]}"}
step "bench"
timeout 330 python3 -m trainer.bench --models=mlp,wide_deep,vgg --steps=200 --repeats=3 \
  --out="$OUT/bench_gpu.json" 2>&1 | quiet | tail -20
