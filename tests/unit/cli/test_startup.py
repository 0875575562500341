"""trainer/cli/startup.py in-process: --verbose read as absl reads booleans, and every benign
pattern exercised (the hiding itself, in child processes, is tests/e2e/test_startup.py)."""

import re

import pytest

from trainer.cli import startup

# Real lines from TensorFlow 2.21 starting on a machine without a GPU, and their older forms.
BENIGN = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795442759.143508    2346 port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors from "
    "different computation orders. To turn them off, set the environment variable "
    "`TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1795442759.143983    2346 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "I0000 00:00:1795442759.198679    2346 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI FMA, in "
    "other operations, rebuild TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
    "2023-11-28 16:42:02.738968: E tensorflow/stream_executor/cuda/cuda_driver.cc:328] failed call "
    "to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
    "E0000 00:00:1745550816.949046 2134991 cuda_dnn.cc:8579] Unable to register cuDNN factory: "
    "Attempting to register factory for plugin cuDNN when one has already been registered",
    "2025-02-09 09:37:32.334667: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:607] "
    "Unable to register cuFFT factory: Attempting to register factory for plugin cuFFT when one "
    "has already been registered",
    "E0000 00:00:1745550816.953297 2134991 cuda_blas.cc:1407] Unable to register cuBLAS factory: "
    "Attempting to register factory for plugin cuBLAS when one has already been registered",
]

REAL = [
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] something real failed",
    # Look-alikes of benign lines that are not: a fatal line, another cuInit error.
    "F0000 00:00:1795442761.738947    2346 port.cc:153] oneDNN custom operations are on.",
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: CUDA_ERROR_OUT_OF_MEMORY: out of memory",
]


@pytest.mark.parametrize(
    "argv, verbose",
    [
        ([], False),
        (["--verbose"], True),
        (["-verbose"], True),
        (["--verbose=true"], True),
        (["--verbose=T"], True),
        (["--verbose=1"], True),
        (["--verbose=false"], False),
        (["--verbose=0"], False),
        (["--verbose=maybe"], False),  # absl rejects it; no noise before its error line.
        (["--verbose", "--noverbose"], False),
        (["--noverbose", "--verbose"], True),
        (["--workdir=/tmp/verbose", "--config.verbose=1"], False),
        (["--", "--verbose"], False),
    ],
)
def test_verbose_requested_reads_absl_boolean_syntax(argv, verbose):
    assert startup.verbose_requested(["trainer.main", *argv]) is verbose


def test_every_benign_pattern_is_exercised():
    used = {p for p in startup.BENIGN_PATTERNS for line in BENIGN if _matches(p, line)}
    assert used == set(startup.BENIGN_PATTERNS)
    assert not any(_matches(p, line) for p in startup.BENIGN_PATTERNS for line in REAL)


def _matches(pattern: str, line: str) -> bool:
    return re.search(pattern, line) is not None
