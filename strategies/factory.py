"""Strategy factory: a name (or `auto`) in, a ready tf.distribute.Strategy out.

Create the strategy before any other TensorFlow op: TPU initialization, logical CPU devices and
MultiWorkerMirrored's collectives all need an uninitialized runtime.
"""

import dataclasses
import glob
import os
import threading

import tensorflow as tf
from absl import logging

from strategies.cluster import cluster_info, export_tf_config
from strategies.devices import split_cpu_into_logical_devices
from trainer.errors import first_line

STRATEGY_NAMES = ("auto", "default", "one_device", "mirrored", "multi_worker_mirrored", "tpu")


class StrategyError(ValueError):
    """The requested strategy cannot be created here; the message says how to fix it."""


@dataclasses.dataclass(frozen=True)
class StrategyChoice:
    strategy: tf.distribute.Strategy
    name: str  # One of STRATEGY_NAMES except `auto`.
    reason: str  # Why this strategy (logged, and kept in results.json).


def create_strategy(
    name: str = "auto",
    *,
    tpu: str | None = None,
    num_cpu_devices: int = 0,
    tpu_timeout_s: float = 60.0,
    environ=None,
) -> StrategyChoice:
    """Creates the named strategy; `auto` picks the best one this machine can run.

    Args:
      name: one of STRATEGY_NAMES.
      tpu: TPU name, `grpc://host:port` address, or `local` (a Cloud TPU VM).
      num_cpu_devices: if > 0, split the CPU into this many logical devices first, so that
        `mirrored` runs that many replicas on a machine without GPUs.
      tpu_timeout_s: give up connecting to a TPU after this long instead of hanging.
      environ: environment to read TF_CONFIG / TPU_NAME from (defaults to os.environ).
    """
    environ = os.environ if environ is None else environ
    if name not in STRATEGY_NAMES:
        raise StrategyError(
            f"Unknown strategy {name!r}. Valid strategies: {', '.join(STRATEGY_NAMES)}."
        )
    try:
        export_tf_config(environ)  # On Kubernetes, TF_CONFIG is derived from the pod's variables.
    except ValueError as e:
        raise StrategyError(str(e)) from e
    if num_cpu_devices:
        split_cpu_into_logical_devices(num_cpu_devices)
    if name == "auto":
        name, reason = _pick_automatically(tpu, environ)
    else:
        reason = "requested with --strategy"
    choice = StrategyChoice(_CREATORS[name](tpu, tpu_timeout_s, environ), name, reason)
    logging.info(
        "Strategy: %s (%s) with %d replica(s) in sync.",
        name,
        reason,
        choice.strategy.num_replicas_in_sync,
    )
    return choice


def _pick_automatically(tpu, environ) -> tuple[str, str]:
    if tpu or environ.get("TPU_NAME") or _local_tpu_present():
        return "tpu", f"a TPU is configured ({tpu or environ.get('TPU_NAME') or 'local'})"
    try:
        workers = cluster_info(environ).num_workers
    except ValueError as e:
        raise StrategyError(str(e)) from e
    if workers > 1:
        return "multi_worker_mirrored", f"TF_CONFIG names {workers} workers"
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return "mirrored", f"{len(gpus)} GPUs on this host"
    cpus = tf.config.list_logical_devices("CPU")
    if not gpus and len(cpus) > 1:
        return "mirrored", f"{len(cpus)} logical CPU devices (--num_cpu_devices)"
    return "default", f"one device ({'GPU' if gpus else 'CPU'}), no TPU, no cluster"


def _local_tpu_present() -> bool:
    return bool(glob.glob("/dev/accel*"))


def _default(tpu, tpu_timeout_s, environ):
    return tf.distribute.get_strategy()


def _one_device(tpu, tpu_timeout_s, environ):
    device = "/gpu:0" if tf.config.list_physical_devices("GPU") else "/cpu:0"
    return tf.distribute.OneDeviceStrategy(device)


def _mirrored(tpu, tpu_timeout_s, environ):
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()  # Every local GPU.
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(cpus)


def _multi_worker_mirrored(tpu, tpu_timeout_s, environ):
    try:
        info = cluster_info(environ)
    except ValueError as e:
        raise StrategyError(str(e)) from e
    if info.num_workers == 1:
        logging.warning("multi_worker_mirrored without a multi-worker TF_CONFIG: one worker.")
    return tf.distribute.MultiWorkerMirroredStrategy()


def _tpu(tpu, tpu_timeout_s, environ):
    tpu = tpu or environ.get("TPU_NAME") or ("local" if _local_tpu_present() else None)
    if not tpu:
        raise StrategyError(
            "--strategy=tpu needs a TPU: pass --tpu=NAME, --tpu=grpc://HOST:8470, or --tpu=local "
            "on a Cloud TPU VM (or set TPU_NAME). Without a TPU use --strategy=auto."
        )
    resolver = _connect_to_tpu(tpu, tpu_timeout_s)
    return tf.distribute.TPUStrategy(resolver)


def _connect_to_tpu(tpu: str, timeout_s: float):
    """Resolves and initializes the TPU in a thread, so an unreachable address cannot hang us."""
    outcome = {}

    def connect():
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
            if tpu != "local":
                tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            outcome["resolver"] = resolver
        except Exception as e:  # noqa: BLE001 - re-raised below with advice.
            outcome["error"] = e

    thread = threading.Thread(target=connect, name="connect-to-tpu", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise StrategyError(
            f"No answer from TPU {tpu!r} within {timeout_s:.0f} s. Check the name or address "
            "and that this VM can reach it, or use --strategy=auto on machines without a TPU."
        )
    if "error" in outcome:
        error = outcome["error"]
        raise StrategyError(
            f"No TPU at {tpu!r} ({type(error).__name__}: {first_line(error)}). "
            "Use --strategy=auto or --strategy=mirrored on machines without a TPU."
        ) from error
    return outcome["resolver"]


_CREATORS = {
    "default": _default,
    "one_device": _one_device,
    "mirrored": _mirrored,
    "multi_worker_mirrored": _multi_worker_mirrored,
    "tpu": _tpu,
}
