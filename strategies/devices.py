"""Logical devices: several replicas on one CPU, for tests and for machines without GPUs."""

import tensorflow as tf


def split_cpu_into_logical_devices(num_devices: int) -> list[str]:
    """Splits the first physical CPU into `num_devices` logical CPUs; returns their names.

    Must run before TensorFlow initializes its devices (before any op or strategy exists).
    """
    if num_devices < 1:
        raise ValueError(f"--num_cpu_devices must be >= 1, got {num_devices}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError as e:  # TensorFlow already initialized its devices.
        current = tf.config.list_logical_devices("CPU")
        if len(current) != num_devices:
            raise RuntimeError(
                f"Cannot split the CPU into {num_devices} logical devices: TensorFlow already "
                f"initialized {len(current)}. Split it before creating any op or strategy."
            ) from e
    return [d.name for d in tf.config.list_logical_devices("CPU")]
