#!/usr/bin/env bash
# The realistic workloads of trainer.bench (ResNet-50 and the BERT-base-shaped encoder, full
# size) on a GPU, run from the repository root (benchmarks/gpu/README.md). Stages, one or more:
#   bash benchmarks/gpu/realistic.sh resnet50      # float32, mixed_bfloat16, mixed_float16
#   bash benchmarks/gpu/realistic.sh bert_encoder  # the same
#   bash benchmarks/gpu/realistic.sh auto          # precision=auto, and auto against the rest
#   bash benchmarks/gpu/realistic.sh fit_jit       # fit with jit_compile the other way round
#   bash benchmarks/gpu/realistic.sh fused         # without XLA: fused Adam against Keras's
# (no stage: resnet50 and bert_encoder). Each precision is its own bench process under
# `timeout` (LIMIT seconds), so one that runs long loses only itself. JSON and logs go to $OUT
# (realistic_MODEL_PRECISION.json, .log; default $TMPDIR/trainer_gpu); `auto` reads the JSON
# of the earlier stages there.
set -u
# shellcheck source=SCRIPTDIR/setup.sh
source benchmarks/gpu/setup.sh || exit 1
STEPS=${STEPS:-30}
REPEATS=${REPEATS:-3}
# One train step per XLA computation: steps of tens of milliseconds leave no launch cost for
# jit_steps to save, and four unrolled ResNet-50 steps would multiply XLA's compile time.
JIT_STEPS=${JIT_STEPS:-1}
LIMIT=${LIMIT:-180}
MAIN=harness,harness_xla,keras3_fit_spe,tf_keras_fit_spe
quiet() { grep -v "^W0000\|^I0000\|WARNING: All\|UserWarning\|data_adapter\|oneDNN\|retracing"; }
bench() { # NAME MODEL PRECISION CONTENDERS: one bench process, its table and JSON.
  local name="realistic_$1" model=$2 precision=$3 contenders=$4
  echo; echo "===== $name ($(date +%T))"
  rm -f "$OUT/$name.json"  # A JSON from an earlier run would pass for this one's.
  timeout "$LIMIT" python3 -m trainer.bench --models="$model" --precision="$precision" \
    --contenders="$contenders" --steps="$STEPS" --repeats="$REPEATS" --steps_per_loop=10 \
    --jit_steps="$JIT_STEPS" --fit_timing=steps --out="$OUT/$name.json" >"$OUT/$name.log" 2>&1
  echo "rc=$?"
  quiet <"$OUT/$name.log" | grep -A12 "^model " || tail -5 "$OUT/$name.log"
}
summary() { # Per model and contender: examples/s by precision, and what auto picked.
  python3 - "$OUT" <<'PY'
import glob, json, sys
rows = {}
for path in sorted(glob.glob(f"{sys.argv[1]}/realistic_*.json")):
    results = json.load(open(path))
    for model, entry in results["models"].items():
        for c in entry["contenders"].values():
            key = (model, c["contender"], c["asked_precision"] == "auto")
            rows.setdefault(key, []).append((c["examples_per_sec"], c["precision"]))
for (model, contender, auto), runs in sorted(rows.items()):
    if auto:
        best = max(rows.get((model, contender, False), [(0, "none")]))
        for per_sec, precision in runs:
            print(f"{model} {contender}: auto picked {precision} ({per_sec:,.0f} ex/s); "
                  f"fastest asked: {best[1]} ({best[0]:,.0f} ex/s)")
    else:
        print(f"{model} {contender}: " + ", ".join(f"{p} {s:,.0f}" for s, p in sorted(runs)))
PY
}
stages=("$@")
[ $# -gt 0 ] || stages=(resnet50 bert_encoder)
for stage in "${stages[@]}"; do
  case $stage in
    resnet50 | bert_encoder)
      for precision in float32 mixed_bfloat16 mixed_float16; do
        bench "${stage}_$precision" "$stage" "$precision" "$MAIN"
      done ;;
    auto)
      for model in resnet50 bert_encoder; do
        bench "${model}_auto" "$model" auto harness,harness_xla,keras3_fit_spe
      done
      summary ;;
    fit_jit)
      for model in resnet50 bert_encoder; do
        bench "${model}_fit_jit" "$model" mixed_bfloat16 keras3_fit_spe_no_xla,tf_keras_fit_spe_xla
      done ;;
    fused) # The plain loop with the harness's fused Adam against Keras's Adam.
      for model in resnet50 bert_encoder; do
        bench "${model}_fused" "$model" float32 harness,harness_keras_adam,keras3_fit_spe_no_xla
      done ;;
    *) echo "unknown stage $stage: resnet50, bert_encoder, auto, fit_jit or fused"; exit 2 ;;
  esac
done
