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

from trainer import cli  # noqa: E402
from trainer.errors import HarnessError  # noqa: E402

SPLITS = ("train", "validation", "test")


def prepare(source, out: str, *, num_shards: int, overwrite: bool, label: str = "label") -> dict:
    """Writes every split of `source` into shards under `out`; returns the spec it wrote."""
    import tensorflow as tf

    from trainer.data.tfrecord_source import SPEC_FILE, encode

    if tf.io.gfile.exists(out) and tf.io.gfile.listdir(out) and not overwrite:
        raise HarnessError(
            f"{out} is not empty: pass --overwrite to replace its files, or choose another --out."
        )
    tf.io.gfile.makedirs(out)
    spec = {"label": label, "num_classes": source.num_classes, "features": {}, "splits": {}}
    for split in SPLITS:
        dataset = source.examples(split, tf.distribute.InputContext())
        spec["features"] = _feature_spec(dataset.element_spec, label)
        count = sum(1 for _ in dataset)
        shards = min(num_shards, max(count, 1))
        names = [f"{split}-{i:05d}-of-{shards:05d}.tfrecord" for i in range(shards)]
        writers = [tf.io.TFRecordWriter(f"{out}/{name}") for name in names]
        counts = [0] * shards
        began = last_report = time.monotonic()
        for index, (features, target) in enumerate(dataset.as_numpy_iterator()):
            values = dict(features) if isinstance(features, dict) else {"features": features}
            writers[index % shards].write(encode({**values, label: target}))
            counts[index % shards] += 1
            if time.monotonic() - last_report > 5:
                last_report = time.monotonic()
                logging.info(
                    "%s: %d of %d examples (%.0f%%)",
                    split,
                    index + 1,
                    count,
                    100 * (index + 1) / count,
                )
        for writer in writers:
            writer.close()
        spec["splits"][split] = {
            "examples": count,
            "shards": [
                {"file": name, "examples": n, "bytes": tf.io.gfile.stat(f"{out}/{name}").length}
                for name, n in zip(names, counts, strict=True)
            ],
        }
        logging.info(
            "%s: %d examples in %d shards (%.0f examples/s).",
            split,
            count,
            shards,
            count / max(time.monotonic() - began, 1e-9),
        )
    with tf.io.gfile.GFile(f"{out}/{SPEC_FILE}", "w") as f:
        f.write(json.dumps(spec, indent=2) + "\n")
    return spec


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
    cli.define_config_flag()


def main(argv):
    args = flags.FLAGS
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {' '.join(argv[1:])}")
    cli.quiet_logs()
    config, _ = cli.load_config()
    if not args.out:
        cli.fail("--out is required: the directory to write the shards and spec.json to.")
    from trainer.data import create_source
    from trainer.data.tfds_source import TfdsSource

    try:
        if args.download and config.data.source == "tfds":
            TfdsSource(**config.data.args.to_dict()).download_and_prepare()
        source = create_source(config.data, seed=config.seed)
        spec = prepare(source, args.out, num_shards=args.num_shards, overwrite=args.overwrite)
    except HarnessError as e:
        cli.fail(str(e), exit_code=e.exit_code)
    total = sum(split["examples"] for split in spec["splits"].values())
    logging.info("Wrote %d examples and spec.json to %s.", total, args.out)


if __name__ == "__main__":
    _define_flags()
    app.run(main, flags_parser=cli.parse_flags)
