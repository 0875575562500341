"""Times the harness loop against Keras 3 `fit` and tf_keras `fit` on the same model and data.

    python -m trainer.bench --models=mlp,wide_deep,vgg --steps=300 --repeats=5 --out=bench.json

For each model the contenders are built once (the first call, tracing and compiling included, is
reported as time to first step), then timed in turns, `--repeats` rounds of `--steps` steps each;
the table gives the median examples/s and its ratio to Keras 3 `fit` with its defaults. The input
pipeline alone is timed the same way. The machine is shared and noisy: read ratios measured in one
run, never absolute numbers across runs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from absl import app, flags  # noqa: E402

_MODELS = flags.DEFINE_list("models", ["mlp", "wide_deep", "vgg"], "Model shapes to time.")
_STEPS = flags.DEFINE_integer("steps", 300, "Steps per timed round.", lower_bound=1)
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed rounds per contender.", lower_bound=1)
_EXAMPLES = flags.DEFINE_integer("examples", 8192, "Synthetic examples held in memory.")
_STEPS_PER_LOOP = flags.DEFINE_integer(
    "steps_per_loop", 50, "Harness host-loop length and fit's steps_per_execution where set."
)
_JIT_STEPS = flags.DEFINE_integer(
    "jit_steps",
    4,
    "harness_xla: train steps per XLA computation (config.train.jit_steps).",
    lower_bound=1,
)
_OUT = flags.DEFINE_string("out", "bench.json", "Where to write the JSON results.")


def run_benchmark(models, *, steps, repeats, examples, steps_per_loop, jit_steps=4) -> dict:
    import tensorflow as tf

    from trainer import bench_models

    results = {
        "steps": steps,
        "repeats": repeats,
        "steps_per_loop": steps_per_loop,
        "jit_steps": jit_steps,
        "tensorflow": tf.__version__,
        "models": {},
    }
    for name in models:
        if name not in bench_models.SHAPES:
            raise ValueError(f"Unknown model {name!r}: choose from {sorted(bench_models.SHAPES)}.")
        results["models"][name] = _bench_model(
            name, steps, repeats, examples, steps_per_loop, jit_steps
        )
    return results


def _bench_model(name, steps, repeats, examples, steps_per_loop, jit_steps) -> dict:
    import tensorflow as tf

    from trainer import bench_models

    builder, loss, batch, _, _ = bench_models.SHAPES[name]
    features, labels = bench_models.synthetic_data(name, examples)

    def dataset():
        data = tf.data.Dataset.from_tensor_slices((features, labels)).cache().repeat()
        return data.batch(batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    contenders = _contenders(builder, loss, dataset, steps_per_loop, jit_steps)
    first_step = {label: contender.start() for label, contender in contenders.items()}
    seconds = {label: [] for label in contenders}
    input_seconds = []
    for _ in range(repeats):  # Turns, so that a noisy moment hurts every contender alike.
        for label, contender in contenders.items():
            seconds[label].append(contender.time(steps))
        input_seconds.append(_time_input(dataset(), steps))
    per_sec = {label: steps * batch / statistics.median(s) for label, s in seconds.items()}
    reference = per_sec["keras3_fit"]
    legacy = per_sec.get("tf_keras_fit_spe")  # None without tf_keras.
    return {
        "batch_size": batch,
        "input_examples_per_sec": steps * batch / statistics.median(input_seconds),
        "contenders": {
            label: {
                "examples_per_sec": per_sec[label],
                "ratio_to_keras3_fit": per_sec[label] / reference,
                "ratio_to_tf_keras_fit_spe": per_sec[label] / legacy if legacy else None,
                "time_to_first_step_s": first_step[label],
                "round_seconds": seconds[label],
            }
            for label in contenders
        },
    }


def _contenders(builder, loss, dataset, steps_per_loop, jit_steps) -> dict:
    from trainer.keras_api import keras

    contenders = {
        "harness": HarnessContender(builder, loss, dataset, steps_per_loop, jit_compile=False),
        "harness_xla": HarnessContender(
            builder, loss, dataset, steps_per_loop, jit_compile=True, jit_steps=jit_steps
        ),
        "keras3_fit": FitContender(keras, builder, loss, dataset, steps_per_execution=1),
        "keras3_fit_spe": FitContender(keras, builder, loss, dataset, steps_per_loop),
    }
    try:
        import tf_keras
    except ImportError:
        return contenders
    contenders["tf_keras_fit_spe"] = FitContender(tf_keras, builder, loss, dataset, steps_per_loop)
    return contenders


class HarnessContender:
    """The harness's own path: create_all_variables, then HostLoop's host loops."""

    def __init__(self, builder, loss, dataset, steps_per_loop, *, jit_compile, jit_steps=1):
        self._args = builder, loss, dataset
        self._steps_per_loop, self._jit, self._jit_steps = steps_per_loop, jit_compile, jit_steps

    def start(self) -> float:
        import tensorflow as tf

        from trainer.keras_api import create_all_variables, keras
        from trainer.loop import HostLoop

        builder, loss, dataset = self._args
        began = time.perf_counter()
        strategy = tf.distribute.get_strategy()
        model = builder(keras)
        model.compile(optimizer="adam", loss=loss)
        create_all_variables(model, next(iter(dataset().take(1))))
        self._loop = HostLoop(
            strategy=strategy, model=model, jit_compile=self._jit, jit_steps=self._jit_steps
        )
        self._iterator = iter(strategy.distribute_datasets_from_function(lambda _: dataset()))
        self._loop.train(self._iterator, 1)
        return time.perf_counter() - began

    def time(self, steps: int) -> float:
        began = time.perf_counter()
        for _ in range(steps // self._steps_per_loop):
            self._loop.train(self._iterator, self._steps_per_loop)
        if steps % self._steps_per_loop:
            self._loop.train(self._iterator, steps % self._steps_per_loop)
        return time.perf_counter() - began


class FitContender:
    """`model.fit` of Keras 3 or tf_keras, with the compile defaults but `steps_per_execution`."""

    def __init__(self, k, builder, loss, dataset, steps_per_execution):
        self._k, self._args, self._spe = k, (builder, loss, dataset), steps_per_execution

    def start(self) -> float:
        builder, loss, dataset = self._args
        began = time.perf_counter()
        self._model = builder(self._k)
        self._model.compile(optimizer="adam", loss=loss, steps_per_execution=self._spe)
        self._data = dataset()
        self._model.fit(self._data, epochs=1, steps_per_epoch=self._spe, verbose=0)
        return time.perf_counter() - began

    def time(self, steps: int) -> float:
        began = time.perf_counter()
        self._model.fit(self._data, epochs=1, steps_per_epoch=steps, verbose=0)
        return time.perf_counter() - began


def _time_input(dataset, steps: int) -> float:
    iterator = iter(dataset)
    next(iterator)
    began = time.perf_counter()
    for _ in range(steps):
        next(iterator)
    return time.perf_counter() - began


def format_table(results: dict) -> str:
    lines = [
        f"{'model':<10} {'contender':<17} {'examples/s':>11} {'x keras3 fit':>12} "
        f"{'x tf_keras fit':>14} {'first step s':>12}"
    ]
    for name, model in results["models"].items():
        for label, c in model["contenders"].items():
            legacy = c["ratio_to_tf_keras_fit_spe"]
            lines.append(
                f"{name:<10} {label:<17} {c['examples_per_sec']:>11,.0f} "
                f"{c['ratio_to_keras3_fit']:>12.2f} "
                f"{'-' if legacy is None else f'{legacy:.2f}':>14} "
                f"{c['time_to_first_step_s']:>12.2f}"
            )
        lines.append(f"{name:<10} {'input pipeline':<17} {model['input_examples_per_sec']:>11,.0f}")
    return "\n".join(lines)


def main(argv):
    del argv
    results = run_benchmark(
        _MODELS.value,
        steps=_STEPS.value,
        repeats=_REPEATS.value,
        examples=_EXAMPLES.value,
        steps_per_loop=_STEPS_PER_LOOP.value,
        jit_steps=_JIT_STEPS.value,
    )
    print(format_table(results), flush=True)
    with open(_OUT.value, "w") as f:
        json.dump(results, f, indent=2)
    print(f"JSON: {_OUT.value}", file=sys.stderr)


if __name__ == "__main__":
    app.run(main)
