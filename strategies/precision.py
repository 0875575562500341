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


def resolve_precision(
    precision: str,
    strategy: tf.distribute.Strategy,
    *,
    jit_compile: bool = False,
    gpus_support_bfloat16=None,
) -> str:
    """Returns the Keras dtype policy name to use; `auto` picks per device type.

    One combination does not train: mixed_float16 with XLA under a strategy that mirrors
    variables across GPUs. Keras's LossScaleOptimizer then updates the optimizer's step counter
    inside a `cond`, which needs a `merge_call` TensorFlow cannot make there (keras-team/keras
    #21366, seen on an H100). So `auto` picks mixed_bfloat16 there (no loss scaling; GPUs of
    compute capability 8.0 and up) or float32, and an explicit mixed_float16 is refused.
    `gpus_support_bfloat16` (a callable, for tests) defaults to reading the GPUs' capability.
    """
    if precision not in PRECISIONS:
        raise ValueError(
            f"Unknown precision {precision!r}: set config.precision to one of "
            f"{', '.join(PRECISIONS)}."
        )
    kind = device_type(strategy)
    loss_scaling_breaks = kind == "GPU" and jit_compile and mirrors_variables(strategy)
    if precision == "auto":
        if not loss_scaling_breaks:
            return _AUTO_BY_DEVICE[kind]
        supported = (gpus_support_bfloat16 or _gpus_support_bfloat16)()
        chosen = "mixed_bfloat16" if supported else "float32"
        logging.info(
            "precision auto: %s, not mixed_float16, since XLA under %s cannot scale the loss "
            "(keras-team/keras#21366).",
            chosen,
            type(strategy).__name__,
        )
        return chosen
    if precision == "mixed_float16" and loss_scaling_breaks:
        raise ValueError(
            f"config.precision=mixed_float16 with config.train.jit_compile=True cannot train "
            f"under {type(strategy).__name__} on GPUs: Keras's loss scaling fails inside XLA "
            "there (keras-team/keras#21366). Set config.precision=mixed_bfloat16 (GPUs of "
            "compute capability 8.0 and up) or float32, or config.train.jit_compile=False."
        )
    if precision == "mixed_float16" and kind == "CPU":
        logging.warning("mixed_float16 on a CPU runs about 20x slower than float32.")
    return precision


def mirrors_variables(strategy: tf.distribute.Strategy) -> bool:
    """Whether the strategy keeps a copy of every variable per replica (Mirrored, MWMS)."""
    return isinstance(
        strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)
    )


def _gpus_support_bfloat16() -> bool:
    """Whether every local GPU computes in bfloat16 natively (compute capability >= 8.0)."""
    gpus = tf.config.list_physical_devices("GPU")
    capabilities = [
        tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        for gpu in gpus
    ]
    return bool(gpus) and all(tuple(c) >= (8, 0) for c in capabilities)
