# shellcheck shell=bash
# Sourced by checks.sh and realistic.sh, from the repository root. Checks that `python3` runs
# this checkout with a TensorFlow that sees a GPU (install as benchmarks/gpu/README.md says),
# prints the versions and the GPUs, and sets OUT, the folder that receives the logs and JSON.
set -u
if [ ! -f trainer/main.py ] || [ ! -d benchmarks/gpu ]; then
  echo "run this from the repository root (the folder that holds trainer/ and benchmarks/)" >&2
  return 1
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-1}"  # TensorFlow's INFO lines off.
if ! python3 - <<'PY'
import sys

try:
    import keras
    import tensorflow as tf

    import trainer  # noqa: F401
except ImportError as e:
    sys.exit(f"{sys.executable} cannot import what the benchmarks need: {e}")
gpus = tf.config.list_physical_devices("GPU")
if not gpus:
    cuda = tf.sysconfig.get_build_info().get("cuda_version", "none")
    sys.exit(f"TensorFlow {tf.__version__} (built for CUDA {cuda}) sees no GPU")
names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, GPUs: {', '.join(names)}")
PY
then
  echo 'install first: pip install -e ".[gpu]" "tf-keras>=2.21,<2.22" (benchmarks/gpu/README.md)' >&2
  return 1
fi
export OUT="${OUT:-${TMPDIR:-/tmp}/trainer_gpu}"
mkdir -p "$OUT" || return 1
echo "logs and JSON go to $OUT"
