"""Benchmarks: the harness's loop against `fit`, and input pipelines against training.

    harness_vs_fit.py  `python -m trainer.bench`: examples/s, ratios to `fit`, MFU
    models.py          the benchmark's models, one definition for Keras 3 and tf_keras
    flops.py           forward FLOPs from the traced graph, and GPU peaks for MFU
    data_pipeline.py   `python -m trainer.data_bench`: a config's input pipeline vs its training

Measurements and how to read them: benchmarks/README.md. May import every layer below it.
"""
