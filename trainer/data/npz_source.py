"""NumPy `.npz` files (np.savez): named feature and label arrays, held in memory.

Either one file per split (`train`, `validation`, `test`), or one file (`path`) cut into splits
by seeded fractions exactly as the CSV source cuts its rows. The label array's dtype says the
task: integer (or bool) labels are class ids, classification with `num_classes` = the largest
train label + 1; float labels are regression targets, shaped (examples, 1) like the CSV
source's when the array is one-dimensional. Float features become float32 (what Keras layers
compute in); other dtypes are kept (token ids, uint8 pixels). One features array gives the
model one input; several give a dict {array name: array}, one input per name.
"""

import io

import numpy as np
import tensorflow as tf

from trainer.data.csv_source import _split
from trainer.data.sources import SPLITS, InMemorySource
from trainer.errors import HarnessError
from trainer.modeling.loss_labels import loss_kind


class NpzSource(InMemorySource):
    def __init__(
        self,
        *,
        path: str = "",
        train: str = "",
        validation: str = "",
        test: str = "",
        features=("x",),
        label: str = "y",
        validation_fraction: float = 0.25,
        test_fraction: float = 0.25,
        split_seed: int = 42,
        loss: str = "",
    ):
        """Args:
        path: one .npz file (local or gs://) cut into train, validation and test by the
          fractions ('' when the splits have their own files).
        train, validation, test: one .npz file per split (all three, or none and `path`).
        features: the features array name(s) in each file: one name, one model input; several,
          a dict of inputs keyed by name.
        label: the label array's name: integer class ids or float targets.
        validation_fraction: of what remains after the test split (with `path`).
        test_fraction: of all rows (with `path`).
        split_seed: fixes which rows land in which split (with `path`).
        loss: config.train.loss, passed by the harness: integer labels under a regression loss
          are a target, not class ids.
        """
        names = _feature_names(features)
        where = _split_files(path, {"train": train, "validation": validation, "test": test})
        if path:
            per_split = _cut(
                path, (*names, label), label, validation_fraction, test_fraction, split_seed
            )
        else:
            per_split = {split: _load(where[split], (*names, label)) for split in SPLITS}
        _check_not_empty(per_split, where, label)
        labels = {split: per_split[split][label] for split in SPLITS}
        if loss_kind(loss) == "regression":  # An integer price is a target too.
            labels = {split: values.astype(np.float32) for split, values in labels.items()}
        num_classes = _num_classes(labels, where, label)
        splits = {}
        for split in SPLITS:
            x = {name: _features(per_split[split][name]) for name in names}
            splits[split] = (x[names[0]] if len(names) == 1 else x, _labels(labels[split]))
        super().__init__(splits, num_classes=num_classes)


def _feature_names(features) -> tuple[str, ...]:
    """`features` as a tuple of array names (one name may be given as a string)."""
    names = (features,) if isinstance(features, str) else tuple(features)
    if not names:
        raise HarnessError(
            "config.data.args.features is empty: name the features array(s), e.g. ('x',)."
        )
    return names


def _split_files(path: str, files: dict[str, str]) -> dict[str, str]:
    """The file each split comes from: `path` for all, or its own of `files` (all or none)."""
    if path and any(files.values()):
        raise HarnessError(
            f"config.data.args sets both path={path!r} and per-split files: set path to cut "
            "one file into splits, or train, validation and test, not both."
        )
    if path:
        return dict.fromkeys(SPLITS, path)
    missing = [split for split in SPLITS if not files[split]]
    if len(missing) == len(SPLITS):
        raise HarnessError(
            "config.data.args.path is empty: set it to a .npz file, or set "
            "config.data.args.train, validation and test to one file each."
        )
    if missing:
        raise HarnessError(
            f"config.data.args.{missing[0]} is empty: set all of train, validation and "
            "test to a .npz file, or set path to cut one file into splits."
        )
    return files


def _cut(path, names, label, validation_fraction, test_fraction, seed) -> dict[str, dict]:
    """{split: {name: array}} of one file cut by seeded fractions, as the CSV source cuts."""
    arrays = _load(path, names)
    rows = _split(len(arrays[label]), validation_fraction, test_fraction, seed)
    return {
        split: {name: a[index] for name, a in arrays.items()}
        for split, index in zip(SPLITS, rows, strict=True)
    }


def _check_not_empty(per_split: dict[str, dict], where: dict[str, str], label: str) -> None:
    for split in SPLITS:
        if not len(per_split[split][label]):
            raise HarnessError(
                f"The {split} split from {where[split]} is empty: give it rows (or, with "
                "path, larger validation_fraction and test_fraction)."
            )


def _load(path: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named arrays of one .npz file, which must all have the same number of rows."""
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            data = f.read()
    except (tf.errors.NotFoundError, tf.errors.PermissionDeniedError) as e:
        raise HarnessError(f"Cannot read .npz file {path}: {type(e).__name__}.") from e
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:  # Not NumPy data, or object arrays.
        raise HarnessError(f"{path} is not a readable .npz file: {e}") from e
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise HarnessError(
            f"{path} holds a single array, not named arrays: save them with np.savez(path, "
            "x=features, y=labels)."
        )
    with npz:
        absent = [name for name in names if name not in npz.files]
        if absent:
            raise HarnessError(
                f"{path} has no array(s) {absent} (config.data.args.features and label); its "
                f"arrays are {sorted(npz.files)}."
            )
        try:
            arrays = {name: npz[name] for name in dict.fromkeys(names)}
        except ValueError as e:  # Object arrays, which would need pickle.
            raise HarnessError(f"{path} has an array numpy cannot load safely: {e}") from e
    lengths = {name: len(a) if a.ndim else None for name, a in arrays.items()}
    if len(set(lengths.values())) > 1 or None in lengths.values():
        raise HarnessError(
            f"The arrays of {path} must have one row per example, the same number in each; they "
            f"have {lengths} rows (None: a scalar)."
        )
    return arrays


def _num_classes(labels: dict, where: dict, label: str) -> int | None:
    """Classes for integer labels (the largest train label + 1), None for float targets; a
    validation or test label outside the train classes is named."""
    dtype = labels["train"].dtype
    if dtype.kind == "f":
        return None
    if dtype.kind not in "iub":
        raise HarnessError(
            f"Label array {label!r} in {where['train']} has dtype {dtype}: use integer class ids "
            "(classification) or floats (regression)."
        )
    train = labels["train"].astype(np.int64)
    if train.min() < 0:
        raise HarnessError(
            f"Label array {label!r} in {where['train']} has the negative label {train.min()}: "
            "class ids must be 0, 1, ..."
        )
    num_classes = int(train.max()) + 1
    for split in ("validation", "test"):
        values = labels[split].astype(np.int64)
        unknown = values[(values < 0) | (values >= num_classes)]
        if len(unknown):
            raise HarnessError(
                f"The {split} split from {where[split]} has label {unknown[0]}, unknown to the "
                f"train split (labels 0..{num_classes - 1}): every class must appear in train."
            )
    return num_classes


def _features(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float32) if array.dtype.kind == "f" else array


def _labels(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "f":
        return (array[:, None] if array.ndim == 1 else array).astype(np.float32)
    return array.astype(np.int32)
