"""Parquet tables (pyarrow), in memory when a split is small and streamed by row group when not.

Each split is a file, a directory of `*.parquet` files or a glob (local or gs://, read through
tf.io.gfile). Numeric feature columns become one float32 vector per example and a float label
a float32 (1,) target, as the CSV source gives them, so a config can switch between the two;
an integer (or bool) label column gives class ids and classification with `num_classes` = the
largest train label + 1. A split whose decoded columns take at most `memory_limit_mb` is read
into numpy arrays (fast shuffled batches, like any in-memory source); a larger one is read one
row group at a time inside tf.data. Streamed training shards by row group: a seeded order of
the row groups, the same on every worker, dealt to the input pipelines in turn; with fewer row
groups than pipelines, every pipeline reads them all and keeps every n-th example (as the
TFRecord source falls back from files to records).
"""

import io

import numpy as np
import tensorflow as tf

from trainer.data.sources import SPLITS, DataSource, shuffled_batches
from trainer.errors import HarnessError, first_line
from trainer.modeling.loss_labels import loss_kind


def _parquet():
    """pyarrow.parquet, or one line saying how to install it."""
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise HarnessError(
            'The parquet data source needs pyarrow: pip install -e ".[parquet]"'
        ) from e
    return pq


class ParquetSource(DataSource):
    def __init__(
        self,
        *,
        train: str = "",
        validation: str = "",
        test: str = "",
        label: str = "label",
        features=(),
        label_scale: float = 1.0,
        memory_limit_mb: float = 256.0,
        seed: int = 0,
        loss: str = "",
    ):
        """Args:
        train, validation, test: each split's Parquet file, directory of *.parquet files, or
          glob (local or gs://).
        label: the label column: integer class ids (classification) or float targets.
        features: numeric feature columns (empty: every column but the label).
        label_scale: multiplies a float target (1e-5: dollars -> 100,000s).
        memory_limit_mb: a split whose decoded features and labels (4 bytes per value) take at
          most this many MiB is held in memory; a larger one is streamed by row group (0:
          stream every split).
        loss: config.train.loss, passed by the harness: an integer label column under a
          regression loss is a target, not class ids.
        """
        self._pq = _parquet()
        self._label, self._label_scale, self._seed = label, label_scale, seed
        self._files = {
            split: _files(split, pattern)
            for split, pattern in (("train", train), ("validation", validation), ("test", test))
        }
        self._features = columns = self._check_columns(tuple(features))
        label_type = self._footer(self._files["train"][0])[0].field(label).type
        # Integer or bool: class ids, unless the loss says a target.
        self._classes = not _floating(label_type) and loss_kind(loss) != "regression"
        self._row_groups = {split: self._list_row_groups(split) for split in SPLITS}
        self._arrays = {}
        limit = memory_limit_mb * 2**20
        for split in SPLITS:
            rows = sum(n for _, _, n in self._row_groups[split])
            if rows == 0:
                raise HarnessError(
                    f"The {split} split ({', '.join(self._files[split])}) has no rows: give it "
                    f"some, or point config.data.args.{split} at other files."
                )
            if rows * (len(columns) + 1) * 4 <= limit:
                self._arrays[split] = _concatenate(
                    [self._to_arrays(self._read(path), path) for path in self._files[split]]
                )
        self.shards_itself = "train" not in self._arrays
        self.num_classes = self._find_num_classes()

    # Files, row groups and columns, from the files' footers only.

    def _footer(self, path):
        try:
            parquet = self._pq.ParquetFile(_open(path))
        except Exception as e:  # pyarrow's ArrowInvalid and friends: not a Parquet file.
            raise HarnessError(
                f"{path} is not a readable Parquet file: {first_line(e, 160)}"
            ) from e
        with parquet:
            return parquet.schema_arrow, parquet.metadata

    def _check_columns(self, features: tuple[str, ...]) -> tuple[str, ...]:
        """The feature columns, checked in every file: present and numeric, as is the label."""
        first = self._files["train"][0]
        if not features:
            features = tuple(n for n in self._footer(first)[0].names if n != self._label)
        if not features:
            raise HarnessError(f"{first} has no column besides the label {self._label!r}.")
        for split in SPLITS:
            for path in self._files[split]:
                schema = self._footer(path)[0]
                absent = [c for c in (*features, self._label) if c not in schema.names]
                if absent:
                    raise HarnessError(
                        f"{path} has no column(s) {absent} (config.data.args.features, label); "
                        f"its columns are {schema.names}."
                    )
                for name in (*features, self._label):
                    kind = schema.field(name).type
                    if not _numeric(kind):
                        numeric = [f.name for f in schema if _numeric(f.type)]
                        raise HarnessError(
                            f"{path} column {name!r} is {kind}, not numeric: list only numeric "
                            f"columns in config.data.args.features (here {numeric}) and a "
                            "numeric label."
                        )
        return features

    def _list_row_groups(self, split) -> list[tuple[str, int, int]]:
        """(file, row group index, rows) of every row group of the split, in file order; names
        a column whose statistics count missing values."""
        groups = []
        for path in self._files[split]:
            metadata = self._footer(path)[1]
            for index in range(metadata.num_row_groups):
                group = metadata.row_group(index)
                for column in range(group.num_columns):
                    chunk = group.column(column)
                    stats = chunk.statistics
                    if (
                        chunk.path_in_schema in (*self._features, self._label)
                        and stats is not None
                        and stats.has_null_count
                        and stats.null_count
                    ):
                        raise HarnessError(_missing_values(path, chunk.path_in_schema))
                groups.append((path, index, group.num_rows))
        return groups

    # Reading.

    def _read(self, path, row_group=None, columns=None):
        """The table of the file at `path`, or of one of its row groups: features and label."""
        columns = columns or [*self._features, self._label]
        with self._pq.ParquetFile(_open(path)) as parquet:
            if row_group is None:
                return parquet.read(columns=columns)
            return parquet.read_row_group(row_group, columns=columns)

    def _to_arrays(self, table, path) -> tuple[np.ndarray, np.ndarray]:
        """(float32 features (rows, columns), labels) of a table read from `path`."""
        for name in (*self._features, self._label):
            if table.column(name).null_count:
                raise HarnessError(_missing_values(path, name))
        x = np.stack(
            [_numpy(table.column(name)).astype(np.float32) for name in self._features], axis=1
        )
        y = _numpy(table.column(self._label))
        if self._classes:
            return x, y.astype(np.int32)
        return x, (y * self._label_scale).astype(np.float32)[:, None]

    def _labels(self, split) -> np.ndarray:
        if split in self._arrays:
            return self._arrays[split][1]
        parts = []
        for path in self._files[split]:
            parts.append(_numpy(self._read(path, columns=[self._label]).column(0)))
        return np.concatenate(parts)

    def _find_num_classes(self) -> int | None:
        """The largest train label + 1 for class ids (None for float targets); a negative label,
        or one in validation or test that train does not reach, is named."""
        if not self._classes:
            return None
        train = self._labels("train").astype(np.int64)
        if train.min() < 0:
            raise HarnessError(
                f"Label column {self._label!r} of the train split has the negative label "
                f"{train.min()}: class ids must be 0, 1, ..."
            )
        num_classes = int(train.max()) + 1
        for split in ("validation", "test"):
            values = self._labels(split).astype(np.int64)
            unknown = values[(values < 0) | (values >= num_classes)]
            if len(unknown):
                raise HarnessError(
                    f"The {split} split has label {unknown[0]} in column {self._label!r}, unknown "
                    f"to the train split (labels 0..{num_classes - 1}): every class must appear "
                    "in train."
                )
        return num_classes

    # DataSource.

    def in_memory(self, split: str) -> bool:
        """Whether `split` is held in memory (else streamed by row group)."""
        return split in self._arrays

    def streams(self, split: str) -> bool:
        return not self.in_memory(split)

    def num_examples(self, split: str) -> int | None:
        if split not in self._arrays:
            return None  # Streamed by row group: not counted.
        return len(self._arrays[split][1])

    def train_features(self):
        if "train" in self._arrays:
            return self._arrays["train"][0]
        return super().train_features()

    def training_batches(self, split, batch_size, *, seed):
        if split not in self._arrays:
            self._check_split(split)
            return None
        return shuffled_batches(self._arrays[split], batch_size, seed)

    def _check_split(self, split):
        if split not in self._row_groups:
            raise HarnessError(
                f"Split {split!r} does not exist in this data source; it has {list(SPLITS)}."
            )

    def examples(self, split, input_context):
        self._check_split(split)
        if split in self._arrays:
            return tf.data.Dataset.from_tensor_slices(self._arrays[split])
        groups = self._row_groups[split]
        order = np.arange(len(groups))
        if split == "train":  # The same seeded order on every worker, then each its share.
            order = np.random.default_rng(self._seed).permutation(len(groups))
        pipelines, pipeline = input_context.num_input_pipelines, input_context.input_pipeline_id
        by_group = len(groups) >= pipelines
        if by_group:
            order = order[pipeline::pipelines]
        label_dtype = tf.int32 if self._classes else tf.float32

        def read(index):
            path, row_group, _ = groups[int(index)]
            return self._to_arrays(self._read(path, row_group), path)

        def read_group(index):
            x, y = tf.py_function(read, [index], [tf.float32, label_dtype])
            x.set_shape([None, len(self._features)])
            y.set_shape([None] if self._classes else [None, 1])
            return x, y

        dataset = (
            tf.data.Dataset.from_tensor_slices(order.astype(np.int64))
            .map(read_group, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch()
        )
        if not by_group:
            dataset = dataset.shard(pipelines, pipeline)
        return dataset


def _open(path: str):
    """What pyarrow reads: a local path as is, a remote one (gs://) through tf.io.gfile."""
    return path if "://" not in path else _GFileReader(path)


class _GFileReader(io.RawIOBase):
    """A tf.io.gfile file as the seekable binary file object pyarrow reads from."""

    def __init__(self, path: str):
        super().__init__()
        self._file = tf.io.gfile.GFile(path, "rb")

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, buffer):
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset, whence=io.SEEK_SET):
        self._file.seek(offset, whence)
        return self._file.tell()

    def tell(self):
        return self._file.tell()

    def close(self):
        self._file.close()
        super().close()


def _files(split: str, pattern: str) -> list[str]:
    """The split's Parquet files: one file, every *.parquet file of a directory, or a glob."""
    if not pattern:
        raise HarnessError(
            f"config.data.args.{split} is empty: set it to a Parquet file, a directory of "
            "*.parquet files, or a glob."
        )
    if tf.io.gfile.isdir(pattern):
        files = tf.io.gfile.glob(f"{pattern.rstrip('/')}/*.parquet")
    else:
        files = tf.io.gfile.glob(pattern)
    if not files:
        raise HarnessError(
            f"config.data.args.{split}={pattern!r} matches no Parquet file: check the path "
            "(a file, a directory of *.parquet files, or a glob)."
        )
    return sorted(files)


def _numeric(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def _floating(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_floating(kind)


def _numpy(column) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False)


def _missing_values(path: str, column: str) -> str:
    return (
        f"{path} column {column!r} has missing values (nulls): fill or drop them before "
        "training (the csv source can impute them)."
    )


def _concatenate(parts):
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))
