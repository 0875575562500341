"""`python -m trainer.bench`: the harness loop against Keras's `fit`
(trainer/bench/harness_vs_fit.py)."""

from trainer.bench.harness_vs_fit import run

run()
