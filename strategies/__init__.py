"""Owns the devices: which tf.distribute strategy, which cluster, which precision."""

from strategies.cluster import ClusterInfo, cluster_info
from strategies.devices import split_cpu_into_logical_devices
from strategies.factory import STRATEGY_NAMES, StrategyError, create_strategy
from strategies.precision import resolve_precision

__all__ = [
    "STRATEGY_NAMES",
    "ClusterInfo",
    "StrategyError",
    "cluster_info",
    "create_strategy",
    "resolve_precision",
    "split_cpu_into_logical_devices",
]
