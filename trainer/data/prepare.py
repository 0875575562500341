"""Write any data source into TFRecord shards plus a spec file, locally or on gs://.

    python -m trainer.prepare --out=/tmp/digits_tfrecord --num_shards=4   # the default config
    python -m trainer.prepare --config=configs/california_mlp.py --out=gs://bucket/housing
    python -m trainer.prepare --config=configs/fashion_mnist_mlp.py --download \
        --out=/data/fashion_mnist_tfrecord

It writes the data source of the config (`config.data.source` and `config.data.args`). Then
train from the shards with `--config=configs/digits_tfrecord.py --config.data.args.dir=OUT` (or
`base.use_data(config, "tfrecord")` in your own experiment file).
Each split becomes `OUT/<split>-NNNNN-of-MMMMM.tfrecord`; `OUT/spec.json` describes them. A
non-empty OUT is refused unless --overwrite.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json  # noqa: E402
import time  # noqa: E402

from absl import app, flags, logging  # noqa: E402

from trainer.cli.config_flag import define_config_flag, load_config, parse_flags  # noqa: E402
from trainer.cli.console import fail, quiet_logs  # noqa: E402
from trainer.errors import HarnessError  # noqa: E402

SPLITS = ("train", "validation", "test")
# Examples read and encoded at a time.
BATCH_SIZE = 4096


def prepare(
    source,
    out: str,
    *,
    num_shards: int,
    overwrite: bool,
    label: str = "label",
    batch_size: int = BATCH_SIZE,
) -> dict:
    """Writes every split of `source` into shards under `out`; returns the spec it wrote.

    Examples are read and encoded `batch_size` at a time (trainer/data/record_encoding.py) and
    dealt to the shards in turn, example i to shard i % shards, so shard sizes differ by at most
    one example.
    """
    import tensorflow as tf

    from trainer.data.tfrecord_source import SPEC_FILE

    if tf.io.gfile.exists(out) and tf.io.gfile.listdir(out) and not overwrite:
        raise HarnessError(
            f"{out} is not empty: pass --overwrite to replace its files, or choose another --out."
        )
    tf.io.gfile.makedirs(out)
    spec = {"label": label, "num_classes": source.num_classes, "features": {}, "splits": {}}
    if source.class_names:  # Read back by the tfrecord source: the exports serve them.
        spec["class_names"] = list(source.class_names)
    totals = _Throughput()
    for split in SPLITS:
        dataset = source.examples(split, tf.distribute.InputContext())
        spec["features"] = _feature_spec(dataset.element_spec, label)
        began = time.monotonic()
        count = _count(dataset)
        shards = min(num_shards, max(count, 1))
        names = [f"{split}-{i:05d}-of-{shards:05d}.tfrecord" for i in range(shards)]
        counts = _write(dataset, [f"{out}/{name}" for name in names], label, count, batch_size)
        spec["splits"][split] = {
            "examples": count,
            "shards": [
                {"file": name, "examples": n, "bytes": tf.io.gfile.stat(f"{out}/{name}").length}
                for name, n in zip(names, counts, strict=True)
            ],
        }
        written = _Throughput(count, sum(s["bytes"] for s in spec["splits"][split]["shards"]))
        written.seconds = time.monotonic() - began
        totals.add(written)
        logging.info("%s: %d examples in %d shards (%s).", split, count, shards, written)
    with tf.io.gfile.GFile(f"{out}/{SPEC_FILE}", "w") as f:
        f.write(json.dumps(spec, indent=2) + "\n")
    logging.info("All splits: %d examples (%s).", totals.examples, totals)
    return spec


def _count(dataset) -> int:
    """The examples in `dataset`: its cardinality when known, else counted in a graph."""
    import tensorflow as tf

    count = int(dataset.cardinality())
    if count >= 0:
        return count
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))


def _batches(dataset, batch_size: int):
    """(features, label) numpy batches; single-example batches when shapes vary by example."""
    import tensorflow as tf

    fixed = all(s.shape.is_fully_defined() for s in tf.nest.flatten(dataset.element_spec))
    if fixed:
        return dataset.batch(batch_size).prefetch(2).as_numpy_iterator()
    return dataset.batch(1).as_numpy_iterator()


def _write(dataset, paths: list[str], label: str, count: int, batch_size: int) -> list[int]:
    """Writes `dataset` round-robin into the files at `paths`; returns each file's examples."""
    import tensorflow as tf

    from trainer.data.record_encoding import encode_batch

    writers = [tf.io.TFRecordWriter(path) for path in paths]
    counts = [0] * len(paths)
    done, last_report = 0, time.monotonic()
    for features, target in _batches(dataset, batch_size):
        values = dict(features) if isinstance(features, dict) else {"features": features}
        records = encode_batch({**values, label: target})
        for shard, writer in enumerate(writers):  # Example done + j goes to shard (done + j) % n.
            mine = records[(shard - done) % len(writers) :: len(writers)]
            for record in mine:
                writer.write(record)
            counts[shard] += len(mine)
        done += len(records)
        if time.monotonic() - last_report > 5:
            last_report = time.monotonic()
            logging.info("%d of %d examples (%.0f%%)", done, count, 100 * done / max(count, 1))
    for writer in writers:
        writer.close()
    return counts


class _Throughput:
    """Examples and bytes written in some seconds, shown as examples/s and MB/s."""

    def __init__(self, examples: int = 0, size: int = 0):
        self.examples, self.bytes, self.seconds = examples, size, 0.0

    def add(self, other: "_Throughput") -> None:
        self.examples += other.examples
        self.bytes += other.bytes
        self.seconds += other.seconds

    def __str__(self) -> str:
        seconds = max(self.seconds, 1e-9)
        return (
            f"{self.examples / seconds:,.0f} examples/s, {self.bytes / seconds / 1e6:.1f} MB/s, "
            f"{self.bytes / 1e6:.1f} MB in {self.seconds:.2f} s"
        )


def _feature_spec(element_spec, label: str) -> dict:
    features, target = element_spec
    named = dict(features) if isinstance(features, dict) else {"features": features}
    if label in named:
        raise HarnessError(f"A feature is already called {label!r}: rename it.")
    named[label] = target
    return {name: {"dtype": s.dtype.name, "shape": s.shape.as_list()} for name, s in named.items()}


def _define_flags():
    flags.DEFINE_string("out", None, "Output directory (local or gs://).")
    flags.DEFINE_integer("num_shards", 4, "Shard files per split.", lower_bound=1)
    flags.DEFINE_bool("overwrite", False, "Replace the files of a non-empty --out.")
    flags.DEFINE_bool("download", False, "tfds only: download and prepare it first.")
    define_config_flag()


def main(argv):
    args = flags.FLAGS
    if len(argv) > 1:
        fail(f"unexpected arguments {' '.join(argv[1:])}")
    quiet_logs()
    config, _ = load_config()
    if not args.out:
        fail("--out is required: the directory to write the shards and spec.json to.")
    from trainer.data import create_source
    from trainer.data.tfds_source import TfdsSource

    try:
        if args.download and config.data.source == "tfds":
            TfdsSource(**config.data.args.to_dict()).download_and_prepare()
        source = create_source(config.data, seed=config.seed, loss=str(config.train.loss))
        spec = prepare(source, args.out, num_shards=args.num_shards, overwrite=args.overwrite)
    except HarnessError as e:
        fail(str(e), exit_code=e.exit_code)
    total = sum(split["examples"] for split in spec["splits"].values())
    logging.info("Wrote %d examples and spec.json to %s.", total, args.out)


def run() -> None:
    """python -m trainer.prepare (console script trainer-prepare)."""
    _define_flags()
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
