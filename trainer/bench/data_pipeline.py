"""Examples/s of the input pipeline alone, per split, against training, to see which limits.

    python -m trainer.data_bench --config=configs/california_mlp.py --batches=1000

The pipeline is the one training uses (same source, batch, cache, shuffle and prefetch) on one
input pipeline. With `--train_steps=N` (default 300) the harness also trains the config's model
for N steps on one device, from that pipeline, and prints the ratio of the input pipeline's
examples/s to training's: below about 3 the input pipeline is close to being the limit.

A tensorflow-datasets config can be timed before its download with `--mock_examples=N`: each
split is N random examples of the dataset's own features (`tfds.testing.mock_data`), decoded,
cached and batched by the real pipeline; only the pixels and words are noise.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import time  # noqa: E402

from absl import app, flags  # noqa: E402

from trainer.cli.config_flag import define_config_flag, load_config, parse_flags  # noqa: E402
from trainer.cli.console import fail, quiet_logs  # noqa: E402
from trainer.errors import HarnessError  # noqa: E402


def measure(config, batches: int) -> dict[str, float]:
    """{split: examples/s} of the training pipeline of each split."""
    import tensorflow as tf

    from trainer.data import create_source, make_dataset_fn

    source = create_source(config.data, seed=config.seed, loss=str(config.train.loss))
    rates = {}
    for split in ("train", "validation", "test"):
        training = split == "train"
        batch = (config.train if training else config.eval).global_batch_size
        dataset = make_dataset_fn(
            source,
            split,
            global_batch_size=batch,
            training=training,
            seed=config.seed,
            shuffle_buffer=config.data.shuffle_buffer,
            cache=config.data.cache,
        )(tf.distribute.InputContext())
        if not training:
            dataset = dataset.repeat()  # Time as many batches as for train.
        # Read inside a tf.function, as the training loop reads its batches: a Python loop
        # would time Python's per-batch overhead, not the pipeline.
        iterator = iter(dataset)

        @tf.function
        def count(n, iterator=iterator):
            total = tf.constant(0, tf.int64)
            for _ in tf.range(n):
                total += tf.shape(tf.nest.flatten(next(iterator))[-1], out_type=tf.int64)[0]
            return total

        count(tf.constant(min(batches, 20)))  # Warm-up: tracing, filling caches and prefetch.
        began = time.perf_counter()
        rates[split] = int(count(tf.constant(batches))) / (time.perf_counter() - began)
    return rates


def measure_training(config, steps: int) -> float:
    """Examples/s of the harness training the config's model on one device, after one host
    loop of warm-up (tracing), reading the same training pipeline."""
    import tempfile

    import tensorflow as tf

    from trainer.run.experiment import build_experiment
    from trainer.workdir.directory import Workdir

    with tempfile.TemporaryDirectory() as scratch:
        experiment = build_experiment(
            config, strategy=tf.distribute.get_strategy(), workdir=Workdir(scratch, is_chief=True)
        )
        iterator = experiment.train_iterator(0)
        experiment.host_loop.train(iterator, min(config.train.steps_per_loop, steps))
        began = time.perf_counter()
        experiment.host_loop.train(iterator, steps)
        return steps * config.train.global_batch_size / (time.perf_counter() - began)


def main(argv):
    del argv
    quiet_logs()
    config, _ = load_config()
    try:
        with _mock_tfds(config, flags.FLAGS.mock_examples):
            rates = measure(config, flags.FLAGS.batches)
            steps = flags.FLAGS.train_steps
            training = measure_training(config, steps) if steps else None
    except HarnessError as e:
        fail(str(e), exit_code=e.exit_code)
    for split, rate in rates.items():
        print(f"{split:<11} {rate:>12,.0f} examples/s", flush=True)
    if training:
        print(f"{'training':<11} {training:>12,.0f} examples/s (one device)", flush=True)
        print(f"input/training: {rates['train'] / training:.1f}x", flush=True)


def _mock_tfds(config, examples: int):
    """`tfds.testing.mock_data` with `examples` per split, or nothing for 0."""
    import contextlib

    if not examples:
        return contextlib.nullcontext()
    if config.data.source != "tfds":
        raise HarnessError(
            f"--mock_examples is for tensorflow-datasets configs (config.data.source='tfds'); "
            f"this one reads {config.data.source!r}: drop the flag."
        )
    import tensorflow_datasets as tfds

    return tfds.testing.mock_data(num_examples=examples)


def run() -> None:
    """python -m trainer.data_bench (console script trainer-data-bench)."""
    flags.DEFINE_integer("batches", 1000, "Batches timed per split (after a warm-up).")
    flags.DEFINE_integer("train_steps", 300, "Training steps timed (0: input only).", lower_bound=0)
    flags.DEFINE_integer(
        "mock_examples",
        0,
        "For a tensorflow-datasets config: time it on this many random examples per split of "
        "the dataset's own features (tfds.testing.mock_data), without its download (0: off).",
        lower_bound=0,
    )
    define_config_flag()
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
