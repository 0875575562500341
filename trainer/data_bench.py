"""Examples/s of the input pipeline alone, per split, to see whether input or compute limits.

    python -m trainer.data_bench --config=configs/california_mlp.py --batches=200

The pipeline is the one training uses (same source, batch, cache, shuffle and prefetch) on one
input pipeline; compare with the `ex/s` of the training log lines.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import time  # noqa: E402

from absl import app, flags  # noqa: E402

from trainer import cli  # noqa: E402
from trainer.errors import HarnessError  # noqa: E402


def measure(config, batches: int) -> dict[str, float]:
    """{split: examples/s} of the training pipeline of each split."""
    import tensorflow as tf

    from trainer.data import create_source, make_dataset_fn

    source = create_source(config.data, seed=config.seed)
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
        iterator = iter(dataset)
        next(iterator)
        examples, began = 0, time.perf_counter()
        for _ in range(batches):
            examples += int(tf.nest.flatten(next(iterator))[-1].shape[0])
        rates[split] = examples / (time.perf_counter() - began)
    return rates


def main(argv):
    del argv
    cli.quiet_logs()
    config, _ = cli.load_config()
    try:
        rates = measure(config, flags.FLAGS.batches)
    except HarnessError as e:
        cli.fail(str(e), exit_code=e.exit_code)
    for split, rate in rates.items():
        print(f"{split:<11} {rate:>12,.0f} examples/s", flush=True)


if __name__ == "__main__":
    flags.DEFINE_integer("batches", 200, "Batches timed per split (after one warm-up).")
    cli.define_config_flag()
    app.run(main, flags_parser=cli.parse_flags)
