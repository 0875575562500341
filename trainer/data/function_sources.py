"""A user's data function as a DataSource, with its output checked before training.

Two kinds of function (told apart by whether they declare a `split` parameter):
- `fn(split, input_context, **args) -> tf.data.Dataset` of unbatched `(features, label)`
  examples (or `(features, label, sample_weight)`) of `split`. Declaring `input_context`
  means the function returns only its input pipeline's part of the split when training, as
  tfds's `ReadConfig(input_context=...)` does; `fn(split, **args)` returns the whole split
  and the harness gives each input pipeline its share of the batches.
- `fn(**args) -> {"train": (x, y), "validation": (x, y), "test": (x, y)}` of numpy arrays (or
  dicts of them for named inputs), held in memory like the built-in digits.
Either may declare `seed` to receive `config.seed`.
"""

import inspect

import numpy as np
import tensorflow as tf

from trainer.data.sources import SPLITS, DataSource, InMemorySource
from trainer.errors import HarnessError

_FIELD = "config.data.source"


class DatasetFunctionSource(DataSource):
    def __init__(self, function, *, name: str, args: dict, seed: int, num_classes):
        self._function, self._name, self._args, self._seed = function, name, dict(args), seed
        parameters = inspect.signature(function).parameters
        self._takes_context = "input_context" in parameters
        self._takes_seed = "seed" in parameters
        self.shards_itself = self._takes_context
        self.num_classes = num_classes

    def examples(self, split, input_context):
        kwargs = dict(self._args)
        if self._takes_context:
            kwargs["input_context"] = input_context
        if self._takes_seed:
            kwargs["seed"] = self._seed
        dataset = self._function(split=split, **kwargs)
        if not isinstance(dataset, tf.data.Dataset):
            raise HarnessError(
                f"Data function {self._name!r} ({_FIELD}) returned {type(dataset).__name__} for "
                f"split {split!r}; expected a tf.data.Dataset of unbatched (features, label) "
                "examples."
            )
        check_structure(dataset.element_spec, self._name, split)
        label = dataset.element_spec[1]
        if self.num_classes is None and getattr(label, "dtype", tf.float32).is_integer:
            raise HarnessError(
                f"Data function {self._name!r} gives integer labels, but a dataset function "
                "cannot say how many classes there are: set config.data.num_classes (or give "
                "float labels for a regression target)."
            )
        return dataset


class ArraysFunctionSource(InMemorySource):
    def __init__(self, function, *, name: str, args: dict, seed: int, num_classes):
        kwargs = dict(args)
        if "seed" in inspect.signature(function).parameters:
            kwargs["seed"] = seed
        splits = function(**kwargs)
        splits = _checked_arrays(splits, name)
        if num_classes is None:
            num_classes = _classes_in(splits)
        super().__init__(splits, num_classes=num_classes)


def check_structure(element_spec, name: str, split: str) -> None:
    """(features, label) or (features, label, sample_weight), each a tensor or a dict of them."""
    ok = isinstance(element_spec, tuple) and len(element_spec) in (2, 3)
    if ok:
        ok = all(
            isinstance(spec, tf.TensorSpec) for spec in tf.nest.flatten(element_spec)
        ) and not isinstance(element_spec[1], tuple | list)
    if not ok:
        raise HarnessError(
            f"Data plug-in {name!r} ({_FIELD}) gives split {split!r} elements of structure "
            f"{_describe(element_spec)}; expected unbatched (features, label) or (features, "
            "label, sample_weight), features a tensor or a dict of tensors."
        )


def _checked_arrays(splits, name: str) -> dict:
    if not isinstance(splits, dict) or set(splits) != set(SPLITS):
        got = sorted(splits) if isinstance(splits, dict) else type(splits).__name__
        raise HarnessError(
            f"Data function {name!r} ({_FIELD}) returned {got}; expected a dict with keys "
            f"{list(SPLITS)}, each a (features, labels) pair of numpy arrays."
        )
    checked = {}
    for split in SPLITS:
        pair = splits[split]
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise HarnessError(
                f"Data function {name!r} returned {type(pair).__name__} for split {split!r}; "
                "expected a (features, labels) pair of numpy arrays."
            )
        features = tf.nest.map_structure(np.asarray, pair[0])
        labels = np.asarray(pair[1])
        counts = {len(a) for a in tf.nest.flatten(features)} | {len(labels)}
        if len(counts) != 1 or 0 in counts:
            raise HarnessError(
                f"Data function {name!r} split {split!r}: features and labels have "
                f"{sorted(counts)} rows; they need the same number, at least 1."
            )
        if features is not None and not isinstance(features, dict | np.ndarray):
            raise HarnessError(f"Data function {name!r}: features must be arrays or a dict.")
        checked[split] = (features, labels)
    return checked


def _classes_in(splits) -> int | None:
    """Integer labels are classes 0..max; float labels are a regression target (None)."""
    labels = [labels for _, labels in splits.values()]
    one_per_example = all(a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1) for a in labels)
    if not one_per_example or not all(np.issubdtype(a.dtype, np.integer) for a in labels):
        return None  # Float targets, or one-hot labels: set config.data.num_classes for those.
    return int(max(int(array.max()) for array in labels)) + 1


def _describe(spec) -> str:
    if isinstance(spec, tf.TensorSpec):
        return f"tensor{tuple(spec.shape)}"
    if isinstance(spec, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in spec.items()) + "}"
    if isinstance(spec, tuple | list):
        return "(" + ", ".join(_describe(v) for v in spec) + ")"
    return type(spec).__name__
