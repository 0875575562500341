"""`python -m trainer.prepare`: the command at its documented path.
It runs trainer/data/prepare.py as the main module, so that
`--help` shows that module's usage and flags."""

import os
import runpy

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ INFO.
    runpy.run_module("trainer.data.prepare", run_name="__main__", alter_sys=True)
