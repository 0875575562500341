"""TFRecord shards (local or gs://) described by a feature spec, as `trainer.prepare` writes them.

Every feature is stored as one serialized tensor (`tf.io.serialize_tensor`), so any dtype and
shape round-trips; `spec.json` beside the shards names each feature's dtype and shape, the label
feature, the shard files of each split with their sizes and example counts, and the classes.
Input pipelines shard by file when a split has at least as many files as pipelines, else by
record. A shard whose size differs from the spec (truncated, or rewritten) is named before
training starts; one that is corrupt inside is named when reading it fails. Files written
elsewhere are read through a pattern per split and a spec given in the config (a file or inline
JSON: {"features": {"x": {"dtype": "float32", "shape": [8]}, "label": {...}}, "label": "label"}).
"""

import json

import numpy as np
import tensorflow as tf

from trainer.data.sources import DataSource
from trainer.errors import HarnessError, first_line

SPEC_FILE = "spec.json"


def read_spec(path: str) -> dict:
    """A spec from a file (local or gs://) or from inline JSON text."""
    if path.lstrip().startswith("{"):
        return json.loads(path)
    if not tf.io.gfile.exists(path):
        raise HarnessError(
            f"No feature spec at {path}: write the shards with `python -m trainer.prepare "
            "--out=DIR ...`, which writes DIR/spec.json, or set config.data.args.spec."
        )
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def encode(features: dict) -> bytes:
    """One example (a dict of numpy values) as a serialized tf.train.Example."""
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                name: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[tf.io.serialize_tensor(value).numpy()])
                )
                for name, value in features.items()
            }
        )
    ).SerializeToString()


class TfRecordSource(DataSource):
    shards_itself = True

    def __init__(
        self,
        *,
        dir: str = "",
        spec: str = "",
        train_pattern: str = "",
        validation_pattern: str = "",
        test_pattern: str = "",
        cycle_length: int = 4,
        seed: int = 0,
    ):
        """Args:
        dir: a directory written by `python -m trainer.prepare`.
        spec: feature spec file or inline JSON ('' = DIR/spec.json).
        train_pattern, validation_pattern, test_pattern: file patterns ('' = the shards that
          spec.json lists).
        cycle_length: shard files read in parallel per input pipeline.
        """
        if not (dir or (spec and train_pattern)):
            raise HarnessError(
                "config.data.args.dir is empty: set it to a directory that "
                "`python -m trainer.prepare --out=DIR` wrote, or set config.data.args.spec "
                "and the split patterns."
            )
        self._dir = dir.rstrip("/")
        self._spec = read_spec(spec or f"{self._dir}/{SPEC_FILE}")
        self._patterns = {
            "train": train_pattern,
            "validation": validation_pattern,
            "test": test_pattern,
        }
        self._cycle_length = cycle_length
        self._seed = seed
        self.num_classes = self._spec.get("num_classes")
        names = self._spec.get("class_names")
        self.class_names = tuple(names) if names else None
        self._label = self._spec.get("label", "label")
        self._features = dict(self._spec["features"])
        if self._label not in self._features:
            raise HarnessError(
                f"The feature spec has no label feature {self._label!r}; its "
                f"features are {sorted(self._features)}."
            )
        self._check_files()
        self._check_first_record()

    def _files(self, split: str) -> list[str]:
        """The split's files: its pattern if set, else the shards spec.json lists."""
        if self._patterns.get(split):
            files = sorted(tf.io.gfile.glob(self._patterns[split]))
            if not files:
                raise HarnessError(
                    f"config.data.args.{split}_pattern={self._patterns[split]!r} matches no files."
                )
            return files
        described = self._spec.get("splits", {})
        if split not in described:
            raise HarnessError(
                f"Split {split!r} does not exist in {self._dir or 'the spec'}; it has "
                f"{sorted(described)}. Set config.data.args.{split}_pattern to read it."
            )
        return [f"{self._dir}/{shard['file']}" for shard in described[split]["shards"]]

    def find_corrupt_file(self) -> str | None:
        """Reads every shard to the end; the first one that fails is named (after a failure)."""
        for split in ("train", "validation", "test"):
            try:
                files = self._files(split)
            except HarnessError:
                continue
            for path in files:
                try:
                    for _ in tf.data.TFRecordDataset(path):
                        pass
                except tf.errors.DataLossError:
                    return path
        return None

    def _check_files(self) -> None:
        """Shards that spec.json lists must exist with the sizes it recorded."""
        for split, described in self._spec.get("splits", {}).items():
            if self._patterns.get(split):
                continue
            if not described["shards"]:
                raise HarnessError(f"Split {split!r} in {self._dir} has no shard files.")
            for shard in described["shards"]:
                path = f"{self._dir}/{shard['file']}"
                if not tf.io.gfile.exists(path):
                    raise HarnessError(f"Shard {path} named in {SPEC_FILE} is missing.")
                size = tf.io.gfile.stat(path).length
                if size != shard["bytes"]:
                    raise HarnessError(
                        f"Shard {path} has {size} bytes but {SPEC_FILE} says {shard['bytes']}: "
                        "it is truncated or was rewritten; prepare the data again."
                    )

    def _check_first_record(self) -> None:
        path = self._files("train")[0]
        try:
            record = next(iter(tf.data.TFRecordDataset(path).take(1)))
        except (StopIteration, tf.errors.OpError) as e:
            raise HarnessError(f"Cannot read a record from {path}: {e}") from e
        self._parse(record, path=path)

    def _parse(self, record, path=None):
        """(features, label) from one serialized example; names a feature that does not fit."""
        description = {name: tf.io.FixedLenFeature([], tf.string) for name in self._features}
        try:
            raw = tf.io.parse_single_example(record, description)
        except tf.errors.InvalidArgumentError as e:
            raise HarnessError(
                f"Records in {path} do not match {SPEC_FILE}: {first_line(e, 200)}"
            ) from e
        parsed = {}
        for name, spec in self._features.items():
            try:
                tensor = tf.io.parse_tensor(raw[name], out_type=tf.as_dtype(spec["dtype"]))
                parsed[name] = tf.ensure_shape(tensor, spec["shape"])
            except (tf.errors.InvalidArgumentError, ValueError) as e:
                raise HarnessError(
                    f"Records in {path} do not match {SPEC_FILE} at feature {name!r} "
                    f"(dtype {spec['dtype']}, shape {spec['shape']}): "
                    f"{first_line(e, 160)}"
                ) from e
        label = parsed.pop(self._label)
        features = next(iter(parsed.values())) if len(parsed) == 1 else parsed
        return features, label

    def examples(self, split, input_context):
        files = self._files(split)
        if split == "train":  # The same seeded file order on every worker, then each its share.
            files = [files[i] for i in np.random.default_rng(self._seed).permutation(len(files))]
        pipelines, pipeline = input_context.num_input_pipelines, input_context.input_pipeline_id
        by_file = len(files) >= pipelines
        if by_file:
            files = files[pipeline::pipelines]
        dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(self._cycle_length, len(files)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        if not by_file:
            dataset = dataset.shard(pipelines, pipeline)
        return dataset.map(self._parse, num_parallel_calls=tf.data.AUTOTUNE)
