"""`python -m trainer.data_bench`: kept at this path for the command; the code is
trainer/bench/data_pipeline.py."""

from trainer.bench.data_pipeline import run

if __name__ == "__main__":
    run()
