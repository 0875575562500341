"""`python -m trainer.bench`: runs trainer/bench/harness_vs_fit.py as the main module, so that
`--help` shows its usage and flags."""

import runpy

if __name__ == "__main__":
    runpy.run_module("trainer.bench.harness_vs_fit", run_name="__main__", alter_sys=True)
