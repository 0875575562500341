"""Precision per device: float16 on GPUs, bfloat16 on TPUs, float32 on CPUs, unless asked."""

import tensorflow as tf
from absl import logging

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
_AUTO_BY_DEVICE = {"TPU": "mixed_bfloat16", "GPU": "mixed_float16", "CPU": "float32"}


def device_type(strategy: tf.distribute.Strategy) -> str:
    """TPU, GPU or CPU: the kind of device the strategy's replicas run on."""
    if isinstance(strategy, tf.distribute.TPUStrategy):
        return "TPU"
    try:
        devices = strategy.extended.worker_devices
    except RuntimeError:  # The default strategy: TensorFlow places ops on a GPU if it has one.
        return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    return "GPU" if any("GPU" in d.upper() for d in devices) else "CPU"


def resolve_precision(precision: str, strategy: tf.distribute.Strategy) -> str:
    """Returns the Keras dtype policy name to use; `auto` picks per device type."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"Unknown precision {precision!r}: set config.precision to one of "
            f"{', '.join(PRECISIONS)}."
        )
    kind = device_type(strategy)
    if precision == "auto":
        return _AUTO_BY_DEVICE[kind]
    if precision == "mixed_float16" and kind == "CPU":
        logging.warning("mixed_float16 on a CPU runs about 20x slower than float32.")
    return precision
