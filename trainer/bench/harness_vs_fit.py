"""Times the harness loop against Keras 3 `fit` and tf_keras `fit` on the same model and data.

    python -m trainer.bench --models=mlp,wide_deep,vgg --steps=300 --repeats=5 --out=bench.json
    python -m trainer.bench --models=resnet50,bert_encoder --reduced \
        --precision=float32,mixed_bfloat16 --steps=20 --repeats=3 --fit_timing=steps

For each model and precision the contenders are built once (their first host loop or fit
execution, tracing and compiling included, is reported as time to first step), then timed in
turns, `--repeats` rounds of `--steps` steps each; the table gives the median examples/s, its
ratio to Keras 3 `fit` with its defaults and to the fastest `fit` contender, and the model FLOPs
utilization (MFU: trainer/bench/flops.py says what is counted and which peak divides). The input
pipeline alone is timed the same way. The machine is shared and noisy: read ratios measured in
one run, never absolute numbers across runs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from absl import app, flags  # noqa: E402

# label: (Keras module, steps_per_execution or None for --steps_per_loop, jit_compile); None
# for the harness's own loop. jit_compile None is the module's compile default: "auto" in
# Keras 3 (XLA on GPUs, not on CPUs), off in tf_keras. The harness trains with the Adam that
# config.train.optimizer="adam" builds (trainer.modeling.fused_adam),
# `harness_keras_adam` with Keras's.
CONTENDERS = {
    "harness": (None, None, False),
    "harness_xla": (None, None, True),
    "harness_keras_adam": (None, None, False),
    "keras3_fit": ("keras", 1, None),
    "keras3_fit_spe": ("keras", None, None),
    "keras3_fit_spe_no_xla": ("keras", None, False),
    "tf_keras_fit_spe": ("tf_keras", None, None),
    "tf_keras_fit_spe_xla": ("tf_keras", None, True),
}
DEFAULT_CONTENDERS = [
    "harness",
    "harness_keras_adam",
    "harness_xla",
    "keras3_fit",
    "keras3_fit_spe",
    "tf_keras_fit_spe",
]
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
_HELD_BYTES = 128 * 2**20  # Synthetic features held in memory, at most (but one batch at least).

_MODELS = flags.DEFINE_list(
    "models",
    ["mlp", "wide_deep", "vgg"],
    "Model shapes to time: mlp, wide_deep, vgg, resnet50, bert_encoder (trainer/bench/models.py).",
)
_REDUCED = flags.DEFINE_bool(
    "reduced",
    False,
    "resnet50 and bert_encoder at their reduced sizes (trainer.bench.models.REDUCED: 64x64 "
    "images; a BERT-Mini-shaped encoder on 64 tokens), which a small CPU trains in minutes.",
)
_PRECISION = flags.DEFINE_list(
    "precision",
    ["float32"],
    "Keras dtype policies, timed one after the other: float32, mixed_bfloat16, mixed_float16, "
    "or auto (per contender, what config.precision=auto picks on this device).",
)
_CONTENDERS = flags.DEFINE_list(
    "contenders", DEFAULT_CONTENDERS, f"Contenders to time, from {', '.join(CONTENDERS)}."
)
_STEPS = flags.DEFINE_integer("steps", 300, "Steps per timed round.", lower_bound=1)
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed rounds per contender.", lower_bound=1)
_EXAMPLES = flags.DEFINE_integer(
    "examples", 8192, "Synthetic examples held in memory (at most 128 MiB of features)."
)
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", 0, "Global batch size; 0 takes each model's own.", lower_bound=0
)
_STEPS_PER_LOOP = flags.DEFINE_integer(
    "steps_per_loop", 50, "Harness host-loop length and fit's steps_per_execution where set."
)
_JIT_STEPS = flags.DEFINE_integer(
    "jit_steps",
    4,
    "harness_xla: train steps per XLA computation (config.train.jit_steps).",
    lower_bound=1,
)
_PEAK_TFLOPS = flags.DEFINE_float(
    "peak_tflops",
    0.0,
    "Peak TFLOP/s that MFU divides by, for every precision; 0 takes the datasheet peak of a "
    "known GPU (trainer.bench.flops.GPU_PEAKS) or the measured matmul ceiling of a CPU.",
    lower_bound=0.0,
)
_FIT_TIMING = flags.DEFINE_enum(
    "fit_timing",
    "call",
    ["call", "steps"],
    "How a fit round is timed: call, the whole fit() call; steps, from on_train_begin to "
    "on_train_end, without the end of the call, where tf.data's autotuner can hold the input "
    "iterator's teardown for up to seconds (benchmarks/README.md, 'Realistic workloads').",
)
_OUT = flags.DEFINE_string("out", "bench.json", "Where to write the JSON results.")


def run_benchmark(
    models,
    *,
    steps,
    repeats,
    examples,
    steps_per_loop,
    jit_steps=4,
    reduced=False,
    precisions=("float32",),
    contenders=tuple(DEFAULT_CONTENDERS),
    batch_size=0,
    peak_tflops=0.0,
    fit_timing="call",
) -> dict:
    from trainer.bench import models as bench_models

    workloads = {name: bench_models.shape(name, reduced=reduced) for name in models}
    for precision in precisions:
        if precision not in PRECISIONS:
            raise ValueError(
                f"Unknown precision {precision!r}: choose from {', '.join(PRECISIONS)}."
            )
    for label in contenders:
        if label not in CONTENDERS:
            raise ValueError(f"Unknown contender {label!r}: choose from {', '.join(CONTENDERS)}.")

    import tensorflow as tf

    from trainer.bench import flops as bench_flops

    device = bench_flops.device_description()
    peaks = _Peaks(device, peak_tflops)
    results = {
        "steps": steps,
        "repeats": repeats,
        "steps_per_loop": steps_per_loop,
        "jit_steps": jit_steps,
        "reduced": reduced,
        "fit_timing": fit_timing,
        "precisions": list(precisions),
        "tensorflow": tf.__version__,
        "device": device,
        "flops": "per example: 2 x multiply-adds of the forward pass's matrix products and "
        "convolutions (trainer/bench/flops.py); a train step is 3 x forward",
        "models": {},
    }
    for name, workload in workloads.items():
        options = dict(steps=steps, repeats=repeats, examples=examples)
        options.update(steps_per_loop=steps_per_loop, jit_steps=jit_steps, batch_size=batch_size)
        options.update(fit_timing=fit_timing)
        results["models"][name] = _bench_model(workload, precisions, contenders, peaks, **options)
    device["matmul_flops_per_sec"] = peaks.measured
    device["peak_flops_per_sec"] = peaks.used
    return results


def _bench_model(workload, precisions, labels, peaks, **options) -> dict:
    import tensorflow as tf

    from trainer.bench import flops as bench_flops
    from trainer.bench import models as bench_models
    from trainer.modeling.keras_api import keras

    steps, repeats = options["steps"], options["repeats"]
    batch = options["batch_size"] or workload.batch_size
    example_bytes = 4 * math.prod(workload.features)
    held = max(batch, min(options["examples"], _HELD_BYTES // example_bytes))
    features, targets = bench_models.synthetic_data(workload, held)

    def dataset():
        # Batched before the cache, so that no work per example is left: the small models train
        # faster than shuffle-repeat-batch of single examples delivers on two cores.
        data = tf.data.Dataset.from_tensor_slices((features, targets))
        data = data.batch(batch, drop_remainder=True).cache().repeat()
        return data.prefetch(tf.data.AUTOTUNE)

    counted = workload.builder(keras)  # The count does not depend on the precision.
    forward = bench_flops.forward_flops(counted, workload.features, workload.feature_dtype)
    del counted
    train_flops = bench_flops.TRAIN_FLOPS_PER_FORWARD * forward

    results, input_seconds = {}, []
    for asked in precisions:
        contenders = _contenders(workload, dataset, labels, asked, options)
        first_step = {key: contender.start() for key, contender in contenders.items()}
        seconds, round_input_seconds = _time_in_turns(contenders, dataset, steps, repeats)
        input_seconds += round_input_seconds
        per_sec = {key: steps * batch / statistics.median(s) for key, s in seconds.items()}
        results.update(
            _contender_results(
                contenders,
                asked,
                per_sec=per_sec,
                first_step=first_step,
                seconds=seconds,
                peaks=peaks,
                train_flops=train_flops,
            )
        )
        del contenders
        gc.collect()
    return {
        "batch_size": batch,
        "examples_held": held,
        "forward_flops_per_example": forward,
        "train_flops_per_example": train_flops,
        "input_examples_per_sec": steps * batch / statistics.median(input_seconds),
        "contenders": results,
    }


def _time_in_turns(contenders: dict, dataset, steps: int, repeats: int):
    """`repeats` rounds of `steps` steps of each contender, then of the input alone; returns
    each contender's seconds per round and the input's."""
    seconds, input_seconds = {key: [] for key in contenders}, []
    # Turns, so that a noisy moment hurts every contender alike, in a new order every round:
    # on the small models the contender that went first was up to 1.2x faster than the same
    # computation later in the round.
    for round_number in range(repeats):
        order = list(contenders.items())
        random.Random(round_number).shuffle(order)
        for key, contender in order:
            seconds[key].append(contender.time(steps))
        input_seconds.append(_time_input(dataset(), steps))
    return seconds, input_seconds


def _contender_results(
    contenders: dict, asked: str, *, per_sec, first_step, seconds, peaks, train_flops
) -> dict:
    """Each contender's entry in the results: its rate, ratios to the fits, MFU and times."""
    fits = [per_sec[key] for key, contender in contenders.items() if contender.fit]
    results = {}
    for key, contender in contenders.items():
        peak = peaks.peak(contender.precision)
        results[key] = {
            "contender": contender.label,
            "precision": contender.precision,
            "asked_precision": asked,
            "jit_compile": contender.jit_compile,
            "steps_per_execution": contender.steps_per_execution,
            "examples_per_sec": per_sec[key],
            "ratio_to_keras3_fit": _ratio(per_sec, key, _key("keras3_fit", asked)),
            "ratio_to_tf_keras_fit_spe": _ratio(per_sec, key, _key("tf_keras_fit_spe", asked)),
            "ratio_to_best_fit": per_sec[key] / max(fits) if fits else None,
            "model_flops_utilization": per_sec[key] * train_flops / peak if peak else None,
            "time_to_first_step_s": first_step[key],
            "round_seconds": seconds[key],
        }
    return results


def _key(label: str, precision: str) -> str:
    """A contender's key in the results: its label, with `@precision` unless float32."""
    return label if precision == "float32" else f"{label}@{precision}"


def _ratio(per_sec: dict, key: str, reference: str):
    return per_sec[key] / per_sec[reference] if reference in per_sec else None


def _contenders(workload, dataset, labels, precision, options) -> dict:
    import tensorflow as tf

    from strategies.precision import resolve_precision

    strategy = tf.distribute.get_strategy()
    contenders = {}
    for label in labels:
        module, spe, jit = CONTENDERS[label]
        if module is None:
            resolved = resolve_precision(precision, strategy, jit_compile=jit)
            contender = HarnessContender(
                label,
                workload,
                dataset,
                options["steps_per_loop"],
                precision=resolved,
                jit_compile=jit,
                jit_steps=options["jit_steps"] if jit else 1,
                fused_adam=label != "harness_keras_adam",
            )
        else:
            try:
                k = importlib.import_module(module)
            except ImportError:  # tf_keras is the dev extra's.
                continue
            resolved = resolve_precision(precision, strategy, jit_compile=bool(jit))
            spe = spe or options["steps_per_loop"]
            contender = FitContender(
                label,
                k,
                workload,
                dataset,
                spe,
                precision=resolved,
                jit=jit,
                timing=options["fit_timing"],
            )
        contenders[_key(label, precision)] = contender
    return contenders


@contextlib.contextmanager
def _global_policy(k, name: str):
    """Builds layers under Keras module `k`'s dtype policy `name`, then restores the old one."""
    previous = k.mixed_precision.global_policy()
    k.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        k.mixed_precision.set_global_policy(previous)


class HarnessContender:
    """The harness's own path: its Adam (Keras's with `fused_adam=False`), create_all_variables,
    then HostLoop's host loops."""

    fit = False

    def __init__(
        self,
        label,
        workload,
        dataset,
        steps_per_loop,
        *,
        precision,
        jit_compile,
        jit_steps=1,
        fused_adam=True,
    ):
        self.label, self._workload, self._dataset = label, workload, dataset
        self._steps_per_loop, self._jit_steps = steps_per_loop, jit_steps
        self._fused_adam = fused_adam
        self.precision, self.jit_compile = precision, jit_compile
        self.steps_per_execution = steps_per_loop

    def start(self) -> float:
        import tensorflow as tf

        from trainer.loop.host_loop import HostLoop
        from trainer.modeling.keras_api import create_all_variables, keras
        from trainer.modeling.optimizers import optimizer_class

        began = time.perf_counter()
        strategy = tf.distribute.get_strategy()
        with _global_policy(keras, self.precision):
            model = self._workload.builder(keras)
            adam = optimizer_class("adam", fused=self._fused_adam)
            model.compile(optimizer=adam(), loss=self._workload.loss)
        create_all_variables(model, next(iter(self._dataset().take(1))))
        self._loop = HostLoop(
            strategy=strategy, model=model, jit_compile=self.jit_compile, jit_steps=self._jit_steps
        )
        self._iterator = iter(strategy.distribute_datasets_from_function(lambda _: self._dataset()))
        # One whole host loop, as fit's first call runs one execution: with XLA it compiles both
        # the jit_steps-step and the one-step computation, which the timed rounds then reuse.
        self._loop.train(self._iterator, self._steps_per_loop)
        return time.perf_counter() - began

    def time(self, steps: int) -> float:
        began = time.perf_counter()
        for _ in range(steps // self._steps_per_loop):
            self._loop.train(self._iterator, self._steps_per_loop)
        if steps % self._steps_per_loop:
            self._loop.train(self._iterator, steps % self._steps_per_loop)
        return time.perf_counter() - began


class FitContender:
    """`model.fit` of Keras 3 or tf_keras, with the compile defaults but `steps_per_execution`
    (and `jit_compile` where set). A round is one fit() call, timed whole (`timing="call"`) or
    from its on_train_begin to its on_train_end (`"steps"`)."""

    fit = True

    def __init__(
        self,
        label,
        k,
        workload,
        dataset,
        steps_per_execution,
        *,
        precision,
        jit=None,
        timing="call",
    ):
        self.label, self._k, self._workload, self._dataset = label, k, workload, dataset
        self.steps_per_execution, self.precision, self._jit = steps_per_execution, precision, jit
        self.jit_compile, self._timing = jit, timing

    def start(self) -> float:
        began = time.perf_counter()
        compile_args = {} if self._jit is None else {"jit_compile": self._jit}
        with _global_policy(self._k, self.precision):
            self._model = self._workload.builder(self._k)
            self._model.compile(
                optimizer="adam",
                loss=self._workload.loss,
                steps_per_execution=self.steps_per_execution,
                **compile_args,
            )
        self._data = self._dataset()
        spe = self.steps_per_execution
        self._model.fit(self._data, epochs=1, steps_per_epoch=spe, verbose=0)
        self.jit_compile = bool(getattr(self._model, "jit_compile", False))  # What ran.
        return time.perf_counter() - began

    def time(self, steps: int) -> float:
        spans = [_span(self._k)()] if self._timing == "steps" else []
        began = time.perf_counter()
        self._model.fit(self._data, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=spans)
        if spans:
            return spans[0].ended - spans[0].began
        return time.perf_counter() - began


@functools.cache
def _span(k):
    """A callback class of Keras module `k` that notes when training begins and ends."""

    class Span(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.began = time.perf_counter()

        def on_train_end(self, logs=None):
            self.ended = time.perf_counter()

    return Span


class _Peaks:
    """Peak FLOP/s per precision on this device (bench_flops.py), measured once where needed."""

    def __init__(self, device: dict, peak_tflops: float):
        self._device, self._override = device, peak_tflops * 1e12
        self.measured, self.used = {}, {}

    def peak(self, precision: str) -> float | None:
        from trainer.bench import flops as bench_flops

        dtype = bench_flops.COMPUTE_DTYPES[precision]
        if dtype not in self.measured:  # Also on GPUs: what TensorFlow's matmul reaches there.
            self.measured[dtype] = bench_flops.matmul_flops_per_sec(dtype)
        if self._override:
            peak = self._override
        elif self._device["kind"] == "CPU":
            peak = self.measured[dtype]
        else:
            peak = bench_flops.gpu_peak_flops_per_sec(self._device, precision)
        self.used[precision] = peak
        return peak


def _time_input(dataset, steps: int) -> float:
    iterator = iter(dataset)
    next(iterator)
    began = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    return time.perf_counter() - began


def format_table(results: dict) -> str:
    lines = [
        f"{'model':<12} {'contender':<21} {'precision':<19} {'examples/s':>11} "
        f"{'x keras3 fit':>12} {'x tf_keras fit':>14} {'x best fit':>10} {'MFU':>7} "
        f"{'first step s':>12}"
    ]
    for name, model in results["models"].items():
        for c in model["contenders"].values():
            precision = c["precision"]
            if c["asked_precision"] == "auto":
                precision = f"auto={precision}"
            mfu = c["model_flops_utilization"]
            lines.append(
                f"{name:<12} {c['contender']:<21} {precision:<19} "
                f"{c['examples_per_sec']:>11,.0f} {_times(c['ratio_to_keras3_fit']):>12} "
                f"{_times(c['ratio_to_tf_keras_fit_spe']):>14} "
                f"{_times(c['ratio_to_best_fit']):>10} "
                f"{'-' if mfu is None else f'{100 * mfu:.1f}%':>7} "
                f"{c['time_to_first_step_s']:>12.2f}"
            )
        lines.append(
            f"{name:<12} {'input pipeline':<21} {'':<19} {model['input_examples_per_sec']:>11,.0f}"
        )
    return "\n".join(lines)


def _times(ratio) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def main(argv):
    del argv
    results = run_benchmark(
        _MODELS.value,
        steps=_STEPS.value,
        repeats=_REPEATS.value,
        examples=_EXAMPLES.value,
        steps_per_loop=_STEPS_PER_LOOP.value,
        jit_steps=_JIT_STEPS.value,
        reduced=_REDUCED.value,
        precisions=_PRECISION.value,
        contenders=_CONTENDERS.value,
        batch_size=_BATCH_SIZE.value,
        peak_tflops=_PEAK_TFLOPS.value,
        fit_timing=_FIT_TIMING.value,
    )
    print(format_table(results), flush=True)
    with open(_OUT.value, "w") as f:
        json.dump(results, f, indent=2)
    print(f"JSON: {_OUT.value}", file=sys.stderr)


def run() -> None:
    """python -m trainer.bench (console script trainer-bench)."""
    app.run(main)


if __name__ == "__main__":
    run()
