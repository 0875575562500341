#!/usr/bin/env bash
# Packs TensorFlow and the harness's pure-Python needs into .gpu/ (git-ignored) for a GPU
# machine with no TensorFlow and no network, reached by a tool that carries at most 64 MiB per
# call: see benchmarks/gpu/README.md. Run from the repository root.
set -euo pipefail
OUT=.gpu
WORK=$(mktemp -d)
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.gpu/' >>.git/info/exclude; }
PIP=(python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12
  --implementation cp --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
  --platform manylinux2014_x86_64)
"${PIP[@]}" -d "$WORK" tensorflow==2.21.0
mkdir -p "$WORK/x" "$OUT/deps"
(cd "$WORK/x" && unzip -q ../tensorflow-*.whl && rm -rf tensorflow/include)
tar cf - -C "$WORK/x" . | zstd -T0 -15 --long=27 -q -o "$WORK/tf.tar.zst"
split -b 55M -d -a 1 "$WORK/tf.tar.zst" "$WORK/part"
for i in 0 1 2 3 4 5; do
  [ -f "$WORK/part$i" ] && mkdir -p "$OUT/c$((i + 1))" && mv "$WORK/part$i" "$OUT/c$((i + 1))/c$((i + 1))"
done
"${PIP[@]}" -d "$OUT/deps" keras==3.15.1 namex==0.1.0 optree==0.20.0 ml_collections==1.1.0 \
  tf_keras==2.21.0 gast==0.7.0 astunparse==1.6.3 google-pasta==0.2.0 termcolor==3.3.0 \
  protobuf==7.36.2 ml_dtypes==0.6.0 'nvidia-cuda-runtime-cu12<13'
cp "$(command -v zstd)" "$OUT/deps/"  # The device image has no zstd.
cp ../shared/datasets/california_housing/housing.csv "$OUT/deps/"
cp benchmarks/gpu/setup.sh benchmarks/gpu/checks.sh "$OUT/deps/"
rm -rf "$WORK"
ls -l "$OUT"/c*/ "$OUT/deps"
