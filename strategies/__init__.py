"""Owns the devices: which tf.distribute strategy, which cluster, which precision.

The names below load their module on first use (PEP 562), so `import strategies.cluster` (the
standard library only) stays TensorFlow-free: launch.kubernetes renders manifests with it in a
fraction of a second, without loading TensorFlow or probing for CUDA.
"""

import importlib

_MODULE_OF = {
    "ClusterInfo": "strategies.cluster",
    "cluster_info": "strategies.cluster",
    "split_cpu_into_logical_devices": "strategies.devices",
    "STRATEGY_NAMES": "strategies.factory",
    "StrategyError": "strategies.factory",
    "create_strategy": "strategies.factory",
    "resolve_precision": "strategies.precision",
}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'strategies' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value  # Later lookups skip this function.
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
