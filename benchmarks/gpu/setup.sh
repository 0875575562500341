# shellcheck shell=bash
# Sourced on the device machine from the repository root: unpacks TensorFlow (carried in chunks
# to /tmp/tfp), installs the pure-Python needs, and points the CUDA 12 library names TensorFlow
# 2.21 opens at the CUDA 13 libraries of the image (this worked on an H100; cuFFT, cuSOLVER are
# linked but never called by the harness). cuDNN 9 and NCCL 2 keep their names.
set -u
D=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -d /tmp/site/tensorflow ]; then
  mkdir -p /tmp/site
  Z=zstd; command -v zstd >/dev/null || Z="$D/zstd"
  cat /tmp/tfp/c[1-6] | $Z -d --long=27 | tar xf - -C /tmp/site || echo "UNPACK FAILED"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$D"/*.whl || echo "PIP FAILED"
fi
export PYTHONPATH=/tmp/site:$PWD
mkdir -p /tmp/cudalib
find_lib() { find / -xdev \( -path /proc -o -path /tmp/site \) -prune -o -name "$1" -print 2>/dev/null | head -1; }
link() { # link NAME_TF_WANTS PATTERN_IN_IMAGE
  local f; f=$(find_lib "$2"); if [ -n "$f" ]; then ln -sf "$f" "/tmp/cudalib/$1"; echo "lib $1 -> $f"; else echo "lib $1: no $2"; fi; }
link libcublas.so.12 'libcublas.so.13*'
link libcublasLt.so.12 'libcublasLt.so.13*'
link libcufft.so.11 'libcufft.so.12*'
link libcusolver.so.11 'libcusolver.so.12*'
link libcusparse.so.12 'libcusparse.so.12*'
link libcudnn.so.9 'libcudnn.so.9*'
link libnccl.so.2 'libnccl.so.2*'
link libnvJitLink.so.12 'libnvJitLink.so.13*'
EXTRA=""
for n in libcublasLt.so.13 libcudnn_graph.so.9 libnvJitLink.so.13 libcusparse.so.12; do
  f=$(find_lib "$n*"); [ -n "$f" ] && EXTRA="$EXTRA:$(dirname "$f")"
done
export LD_LIBRARY_PATH="/tmp/cudalib:/tmp/site/nvidia/cuda_runtime/lib$EXTRA:${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
export TF_CPP_MIN_LOG_LEVEL=1
