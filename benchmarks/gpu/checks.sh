#!/usr/bin/env bash
# The GPU checks, run on the device machine from the repository root; logs and JSON go to $OUT.
set -u
# shellcheck source=benchmarks/gpu/setup.sh
source .gpu/deps/setup.sh
CSV=$PWD/.gpu/deps/housing.csv
step() { echo; echo "===== $1 ($(date +%T))"; }
quiet() { grep -v "^W0000\|^I0000\|WARNING: All\|UserWarning\|data_adapter\|oneDNN\|meta_optimizer"; }
python3 -c "import tensorflow as tf, sys; sys.exit(not tf.config.list_physical_devices('GPU'))" ||
  { echo "TensorFlow sees no GPU"; exit 1; }
run() { # NAME TIMEOUT_S FLAGS...: one trainer.main run, then its results.
  local name=$1 limit=$2
  shift 2
  step "$name"
  timeout "$limit" python3 -m trainer.main --workdir="/tmp/runs/$name" --progress=quiet "$@" \
    >"$OUT/$name.log" 2>&1
  echo "rc=$?"
  grep -E "^error|precision|Done" "$OUT/$name.log" | tail -3
}
run digits_mirrored 150 --strategy=mirrored
run digits_mirrored_xla 150 --strategy=mirrored --config.train.jit_compile=True
run digits_mirrored_xla_float16 100 --strategy=mirrored --config.train.jit_compile=True \
  --config.precision=mixed_float16
run wide_deep_mirrored 200 --config=configs/california_wide_deep.py --strategy=mirrored \
  --config.data.args.path="$CSV"
run wide_deep_mirrored_xla 200 --config=configs/california_wide_deep.py --strategy=mirrored \
  --config.data.args.path="$CSV" --config.train.jit_compile=True
step "bench"
timeout 330 python3 -m trainer.bench --models=mlp,wide_deep,vgg --steps=200 --repeats=3 \
  --out="$OUT/bench_gpu.json" 2>&1 | quiet | tail -20
