"""`python -m trainer.data_bench`: the command at its documented path.
It runs trainer/bench/data_pipeline.py as the main module, so that
`--help` shows that module's usage and flags."""

import os
import runpy

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ INFO.
    runpy.run_module("trainer.bench.data_pipeline", run_name="__main__", alter_sys=True)
