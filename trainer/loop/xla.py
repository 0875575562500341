"""Whether the train step runs with XLA: config.train.jit_compile = auto | true | false.

`auto` turns XLA on for GPUs and TPUs, where it was 1.8-3.1x faster than Keras's `fit` on an
H100, and off on CPUs, where it lost on convolutions (benchmarks/README.md). XLA cannot run one
replica per logical CPU device, so `auto` is off there too and `true` is refused. A model that XLA
cannot compile (an op without an XLA kernel, such as `tf.numpy_function` or string ops) trains
on without XLA: `FallbackHostLoop` retries the first host loop with the plain loop and says why.
"""

import dataclasses
import re

import tensorflow as tf
from absl import logging

from strategies.precision import device_type
from trainer.errors import HarnessError

SETTINGS = ("auto", "true", "false")


@dataclasses.dataclass
class XlaChoice:
    requested: str  # auto | true | false, as configured.
    enabled: bool  # Whether the loop is built with XLA.
    reason: str

    def as_results(self) -> dict:
        return dataclasses.asdict(self)


def choose_xla(setting, strategy: tf.distribute.Strategy) -> XlaChoice:
    """Raises HarnessError for a setting other than True, False or auto."""
    requested = str(setting).strip().lower()
    if requested not in SETTINGS:
        raise HarnessError(
            f"config.train.jit_compile={setting!r} must be True, False or 'auto' (XLA on GPUs "
            "and TPUs, off on CPUs)."
        )
    logical_cpus = _logical_cpu_devices(strategy)
    if requested == "true":
        if logical_cpus > 1:
            raise HarnessError(
                f"config.train.jit_compile=True cannot run on {logical_cpus} logical CPU devices "
                "(XLA looks for every variable on CPU:0): train on one CPU device (no "
                "--num_cpu_devices) or on GPUs/TPUs, or set config.train.jit_compile=auto."
            )
        return XlaChoice("true", True, "config.train.jit_compile=True")
    if requested == "false":
        return XlaChoice("false", False, "config.train.jit_compile=False")
    kind = device_type(strategy)
    if kind == "CPU":
        return XlaChoice("auto", False, "auto: off on CPUs (slower there; benchmarks/README.md)")
    return XlaChoice("auto", True, f"auto: on for {kind}s")


def _logical_cpu_devices(strategy) -> int:
    try:
        devices = strategy.extended.worker_devices
    except RuntimeError:  # The default strategy: one device.
        return 1
    return len(devices) if all("CPU" in d.upper() for d in devices) else 0


# What TensorFlow raises when XLA cannot compile a function (no kernel for an op, an op it
# cannot cluster); an error of the step itself raises the same types, told apart by the message.
_COMPILE_ERRORS = (
    tf.errors.InvalidArgumentError,
    tf.errors.UnimplementedError,
    tf.errors.InternalError,
    tf.errors.NotFoundError,
)


def _compile_failure(error) -> str | None:
    """The reason XLA gave, shortened, or None when the error does not come from XLA."""
    text = getattr(error, "message", None) or str(error)
    unsupported = re.findall(r"XLA_\w+_JIT: (\w+) \(No registered", text)
    if unsupported:
        return f"no XLA kernel for {', '.join(sorted(set(unsupported)))}"
    for line in text.splitlines():
        if "XLA" in line or "tf2xla" in line:
            return line.strip()[:300]
    return None


class FallbackHostLoop:
    """A HostLoop with XLA as `xla` chose; if its first host loop fails to compile, the plain
    HostLoop from then on. `xla` then says why, and `current` is the HostLoop in use."""

    def __init__(self, *, xla: XlaChoice, make_loop):
        """`make_loop(jit_compile)` builds a HostLoop."""
        self.xla, self._make_loop = xla, make_loop
        self.current = make_loop(xla.enabled)
        self._untried = xla.enabled

    def train(self, iterator, steps: int) -> dict[str, float]:
        if not self._untried:
            return self.current.train(iterator, steps)
        try:
            results = self.current.train(iterator, steps)
        except _COMPILE_ERRORS as e:
            reason = _compile_failure(e)
            if reason is None:  # An error of the step itself, not of XLA.
                raise
            logging.warning(
                "XLA could not compile the train step (%s): training on without XLA; set "
                "config.train.jit_compile=False to skip the attempt.",
                reason,
            )
            self.xla = XlaChoice(self.xla.requested, False, f"XLA failed: {reason}")
            self.current = self._make_loop(False)
            self._untried = False
            return self.current.train(iterator, steps)
        self._untried = False
        return results

    def evaluate(self, dataset) -> dict[str, float]:
        return self.current.evaluate(dataset)

    def any_worker(self, flag: bool) -> bool:
        return self.current.any_worker(flag)
