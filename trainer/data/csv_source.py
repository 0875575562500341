"""CSV files with typed columns, missing values handled on purpose, splits fixed by a seed.

Numeric columns become one float32 feature vector, or several named ones (`inputs`: input name
-> feature names, for a model with several inputs); categorical columns stay strings (for a
StringLookup inside the model), in which case features are a dict {"numeric": ..., column: ...}.
Missing numeric values are imputed with a statistic of the train split only (`impute_median`,
`impute_mean`), imputed and flagged with a 0/1 column (`flag`), or their rows dropped (`drop`).
A `recipe` derives features from raw columns: `california_housing_8` gives scikit-learn's 8
California-housing features (MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup,
Latitude, Longitude) from the census columns.

The label is a class or a regression target (`task`). With task="auto" it is a class when the
column holds text ("benign"/"malignant") or when it holds integers and config.train.loss is a
classification loss; else a target. Classes are the train split's distinct labels in sorted
order (numerically for numbers), kept as `class_names`; a label in validation or test that train
lacks is an error that names it. For one sigmoid unit on a two-class task, set
config.data.num_classes=1 and config.train.loss=binary_crossentropy.

The file is `path` (local or gs://). With `path` empty and a `url` set, the file is downloaded
once by `keras.utils.get_file` into Keras's cache ($KERAS_HOME/datasets, else
~/.keras/datasets), checked against `sha256`, and read from there on every later run, offline
included; a `path` given wins and nothing is downloaded. The California housing configs set the
url and hash of the public housing.csv (configs/california_mlp.py).
"""

import contextlib
import csv
import hashlib
import io
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import uuid

import numpy as np
import tensorflow as tf

from trainer.data.sources import InMemorySource
from trainer.errors import HarnessError
from trainer.modeling.loss_labels import is_classification, loss_kind

MISSING = ("impute_median", "impute_mean", "flag", "drop")
TASKS = ("auto", "classification", "regression")


def _california_housing_8(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    households = columns["households"]
    return {
        "MedInc": columns["median_income"],
        "HouseAge": columns["housing_median_age"],
        "AveRooms": columns["total_rooms"] / households,
        "AveBedrms": columns["total_bedrooms"] / households,
        "Population": columns["population"],
        "AveOccup": columns["population"] / households,
        "Latitude": columns["latitude"],
        "Longitude": columns["longitude"],
    }


# name: (the raw columns it reads, the function that derives the features from them)
RECIPES = {
    "california_housing_8": (
        (
            "median_income",
            "housing_median_age",
            "total_rooms",
            "total_bedrooms",
            "population",
            "households",
            "latitude",
            "longitude",
        ),
        _california_housing_8,
    ),
}


class CsvSource(InMemorySource):
    def __init__(
        self,
        *,
        path: str = "",
        url: str = "",
        sha256: str = "",
        label: str = "label",
        label_scale: float = 1.0,
        features=(),
        categorical=(),
        inputs=None,
        missing: str = "impute_median",
        recipe: str = "",
        validation_fraction: float = 0.25,
        test_fraction: float = 0.25,
        split_seed: int = 42,
        task: str = "auto",
        loss: str = "",
    ):
        """Args:
        path: the CSV file (local or gs://); given, it wins over `url`.
        url: with path empty, where to download the CSV file from, once: it is cached in
            $KERAS_HOME/datasets (else ~/.keras/datasets) under the URL's file name.
        sha256: the downloaded file's SHA-256 in hex ('': not checked); a file that does not
            match is not used.
        label: the label column: classes (text or integers) or a numeric target.
        label_scale: multiplies a regression target (1e-5: dollars -> 100,000s).
        features: numeric feature columns (empty: every other column).
        categorical: columns kept as strings, for a StringLookup inside the model.
        inputs: {input name: feature names} for a model with several inputs (None: one).
        missing: impute_median | impute_mean | flag | drop.
        recipe: derived features: '' (none) or california_housing_8.
        validation_fraction: of what remains after the test split.
        test_fraction: of all rows.
        split_seed: fixes which rows land in which split.
        task: auto | classification | regression (auto: see the module's docstring).
        loss: config.train.loss, passed by the harness (task="auto" reads it).
        """
        _check_args(path, url, sha256, missing, task, recipe)
        path = path or _download(url, sha256.lower())
        header, rows = _read(path)
        categorical = tuple(categorical)
        numeric = _numeric_columns(path, header, rows, label, features, categorical, recipe)
        texts, classes, labels = _label_column(path, header, rows, label, task, loss)
        if recipe:
            numeric = RECIPES[recipe][1](numeric)
        train, validation, test = _split(len(rows), validation_fraction, test_fraction, split_seed)
        matrix, keep = self._feature_matrix(numeric, missing, train)
        if np.isnan(labels).any():
            keep &= ~np.isnan(labels)
        strings = _string_columns(header, rows, categorical)
        groups = self._input_groups(path, dict(inputs or {}))
        if classes:
            class_index = self._class_index(path, label, label_scale, texts, train[keep[train]])
        splits = {}
        for name, index in (("train", train), ("validation", validation), ("test", test)):
            index = index[keep[index]]
            x = _split_features(matrix, index, groups, strings)
            if classes:
                y = _class_indices(path, label, name, texts[index], class_index)
            else:
                y = (labels[index] * label_scale).astype(np.float32)[:, None]
            splits[name] = (x, y)
        super().__init__(splits, num_classes=len(self.class_names) if classes else None)

    def _feature_matrix(self, numeric: dict[str, np.ndarray], missing: str, train):
        """The numeric columns as one matrix, missing values handled; sets rows_with_missing and
        feature_names. Returns (matrix, rows kept)."""
        matrix = np.stack(list(numeric.values()), axis=1)
        self.rows_with_missing = int(np.isnan(matrix).any(axis=1).sum())
        self.feature_names = list(numeric)
        return self._handle_missing(matrix, missing, train)

    def _class_index(self, path, label, label_scale, texts, train_index) -> dict[str, int]:
        """Sets class_names to the train split's classes; returns class name -> index."""
        if label_scale != 1.0:
            raise HarnessError(
                f"config.data.args.label_scale={label_scale} scales a regression target, "
                f"but {label!r} holds classes: leave it at 1 (or set task=regression)."
            )
        self.class_names, class_index = _classes(path, label, texts, train_index)
        return class_index

    def _input_groups(self, path, inputs: dict) -> dict[str, list[int]]:
        """{input name: column indices in the feature matrix} for `config.data.args.inputs`."""
        groups = {}
        for group, names in inputs.items():
            if isinstance(names, str) or not names:
                raise HarnessError(
                    f"config.data.args.inputs.{group} must be a non-empty tuple of feature names, "
                    f"got {names!r}."
                )
            unknown = [name for name in names if name not in self.feature_names]
            if unknown:
                raise HarnessError(
                    f"config.data.args.inputs.{group} names feature(s) {unknown} that {path} "
                    f"does not give; its features are {self.feature_names}."
                )
            groups[group] = [self.feature_names.index(name) for name in names]
        return groups

    def _handle_missing(self, matrix, missing, train):
        """Imputes from train-split statistics (or flags, or drops); returns (matrix, rows kept)."""
        keep = np.ones(len(matrix), dtype=bool)
        holes = np.isnan(matrix)
        if missing == "drop":
            return matrix, keep & ~holes.any(axis=1)
        statistic = np.nanmean if missing == "impute_mean" else np.nanmedian
        fill = statistic(matrix[train], axis=0)
        filled = np.where(holes, fill[None, :], matrix)
        if missing == "flag":
            flagged = [i for i in range(matrix.shape[1]) if holes[:, i].any()]
            filled = np.concatenate([filled, holes[:, flagged].astype(np.float64)], axis=1)
            self.feature_names += [f"{self.feature_names[i]}_missing" for i in flagged]
        return filled, keep


def _check_args(path: str, url: str, sha256: str, missing: str, task: str, recipe: str) -> None:
    """Rejects an empty path without a url and a malformed sha256, then an unknown missing, task
    or recipe."""
    if not path and not url:
        raise HarnessError(
            "config.data.args.path is empty and config.data.args.url is not set: pass a CSV file "
            "(--config.data.args.path=PATH/TO/file.csv) or a URL to download one from "
            "(--config.data.args.url=https://...)."
        )
    if sha256 and not (len(sha256) == 64 and all(c in "0123456789abcdefABCDEF" for c in sha256)):
        raise HarnessError(
            f"config.data.args.sha256={sha256!r} is not a SHA-256: expected 64 hex digits "
            "(sha256sum FILE prints them), or '' to leave the download unchecked."
        )
    if missing not in MISSING:
        raise HarnessError(
            f"config.data.args.missing={missing!r}: use one of {', '.join(MISSING)}."
        )
    if task not in TASKS:
        raise HarnessError(f"config.data.args.task={task!r}: use one of {', '.join(TASKS)}.")
    if recipe and recipe not in RECIPES:
        raise HarnessError(
            f"config.data.args.recipe={recipe!r}: use '' or one of {', '.join(RECIPES)}."
        )


def _download(url: str, sha256: str) -> str:
    """The local path of the file at `url`: the cached copy when there is one (that matches
    `sha256`), else a fresh download through keras.utils.get_file, checked, then cached."""
    name = os.path.basename(urllib.parse.urlsplit(url).path)
    if not name:
        raise HarnessError(
            f"config.data.args.url={url!r} names no file: end it with the file's name, e.g. "
            "https://host/data/housing.csv."
        )
    cache_dir = _keras_cache_dir()
    cached = os.path.join(cache_dir, "datasets", name)
    if os.path.isfile(cached) and (not sha256 or _sha256(cached) == sha256):
        return cached
    # Every worker (and an evaluator) builds its data, so several processes may download at once
    # into the same cache. get_file writes straight to its target (urlretrieve), where a
    # concurrent reader would see a partial file, and on a hash mismatch it downloads again over
    # the file in place. So each process downloads to a name of its own and renames it into
    # place once checked: a rename in one directory is atomic, readers see a whole file (their
    # own, or another's of the same bytes), never a partial one. For the same reasons the cached
    # copy and the download are checked here rather than by get_file's file_hash, whose error
    # does not say what it got and leaves the file where it was written.
    part = f"{name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part"
    from trainer.modeling.keras_api import keras

    try:
        # get_file prints its progress bar on stdout, which --progress=json keeps for JSON lines.
        with contextlib.redirect_stdout(sys.stderr):
            downloaded = keras.utils.get_file(
                fname=part, origin=url, cache_dir=cache_dir, cache_subdir="datasets"
            )
    except Exception as e:  # get_file raises a bare Exception for URL and HTTP errors.
        raise HarnessError(
            f"Cannot download {url} (config.data.args.url): {_why(e)}. Either connect once (the "
            f"file is then cached at {cached} and later runs read it offline), or pass "
            f"--config.data.args.path=PATH/TO/{name}."
        ) from e
    got = _sha256(downloaded)
    if sha256 and got != sha256:
        os.remove(downloaded)
        raise HarnessError(
            f"{url} (config.data.args.url) gave a file with sha256 {got}, expected {sha256} "
            "(config.data.args.sha256): the file was not used, nor cached. Check the URL and the "
            f"hash, or pass --config.data.args.path=PATH/TO/{name}."
        )
    os.replace(downloaded, cached)
    return cached


def _why(error: Exception) -> str:
    """What went wrong, in one line: the URL or HTTP error get_file wrapped, else its message."""
    cause = error.__cause__ or error.__context__
    if isinstance(cause, urllib.error.HTTPError):
        return f"HTTP {cause.code} {cause.reason}"
    if isinstance(cause, urllib.error.URLError):
        return " ".join(str(cause.reason).split())
    return " ".join(str(error).split()) or type(error).__name__


def _keras_cache_dir() -> str:
    """The directory keras.utils.get_file caches in: $KERAS_HOME, else ~/.keras; a temporary
    .keras when that is not writable (as get_file itself falls back). $KERAS_HOME is read now,
    not when Keras was imported."""
    base = os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if os.access(base, os.W_OK):
        return base
    return os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: str):
    try:
        with tf.io.gfile.GFile(path, "r") as f:
            text = f.read()
    except (tf.errors.NotFoundError, tf.errors.PermissionDeniedError) as e:
        raise HarnessError(
            f"Cannot read CSV file {path} (config.data.args.path): {type(e).__name__}."
        ) from e
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    rows = [row for row in reader if row]
    if not header or not rows:
        raise HarnessError(f"CSV file {path} has no header or no rows.")
    bad = next((i for i, row in enumerate(rows) if len(row) != len(header)), None)
    if bad is not None:
        raise HarnessError(
            f"{path} line {bad + 2} has {len(rows[bad])} fields; the header has {len(header)}."
        )
    return header, rows


def _numeric_columns(
    path, header, rows, label, features, categorical, recipe
) -> dict[str, np.ndarray]:
    """The raw numeric columns by name: the recipe's, `features`, or every column but the label
    and the categorical ones. Every column named, the label's included, must be in the file."""
    if recipe:
        numeric_names = list(RECIPES[recipe][0])
    elif features:
        numeric_names = list(features)
    else:
        numeric_names = [c for c in header if c != label and c not in categorical]
    absent = [name for name in (label, *categorical, *numeric_names) if name not in header]
    if absent:
        raise HarnessError(f"{path} has no column(s) {absent}; its columns are {header}.")
    return {name: _numeric_column(path, header, rows, name) for name in numeric_names}


def _numeric_column(path, header, rows, name) -> np.ndarray:
    column = header.index(name)
    values = np.empty(len(rows))
    for i, row in enumerate(rows):
        text = row[column].strip()
        try:
            values[i] = float(text) if text else np.nan
        except ValueError as e:
            raise HarnessError(
                f"{path} column {name!r} must be numeric but line {i + 2} has {text!r}: list it "
                "in config.data.args.categorical or fix the file."
            ) from e
    return values


def _string_columns(header, rows, categorical) -> dict[str, np.ndarray]:
    """The categorical columns as they are in the file, for a StringLookup inside the model."""
    return {name: np.array([row[header.index(name)] for row in rows]) for name in categorical}


def _label_column(path, header, rows, label, task: str, loss: str):
    """The label column's stripped texts, whether they are classes, and their numbers (for
    classes 0, with NaN where a label is empty and its row is to be dropped)."""
    texts = np.array([row[header.index(label)].strip() for row in rows])
    classes = _is_classification(path, label, texts, task, loss)
    labels = _numeric_labels(texts) if not classes else np.where(texts == "", np.nan, 0.0)
    return texts, classes, labels


def _is_classification(path, label, texts, task: str, loss: str) -> bool:
    numbers = _numeric_labels(texts)
    text_values = sorted({t for t, n in zip(texts, numbers, strict=True) if t and np.isnan(n)})
    target = task == "regression" or (task == "auto" and loss_kind(loss) == "regression")
    if text_values and target:
        line = next(i for i, t in enumerate(texts) if t and np.isnan(numbers[i])) + 2
        why = "task=regression" if task == "regression" else f"config.train.loss={loss!r}"
        raise HarnessError(
            f"{path} column {label!r} is a numeric target ({why}), but line {line} has "
            f"{str(texts[line - 2])!r}: fix or empty that value (an empty label drops the row), "
            "or set config.data.args.task=classification for classes."
        )
    if task != "auto":
        return task == "classification"
    if text_values:
        return True
    present = numbers[~np.isnan(numbers)]
    return is_classification(loss) and bool(np.all(present == np.round(present)))


def _numeric_labels(texts) -> np.ndarray:
    """The labels as numbers (NaN for an empty or a text value)."""
    values = np.full(len(texts), np.nan)
    for i, text in enumerate(texts):
        try:
            values[i] = float(text) if text else np.nan
        except ValueError:
            pass
    return values


def _classes(path, label, texts, train_index) -> tuple[tuple[str, ...], dict[str, int]]:
    """The train split's classes in sorted order (numbers numerically), and name -> index."""
    present = {str(t) for t in texts[train_index] if t}
    numbers = _numeric_labels(sorted(present))
    if not np.isnan(numbers).any():  # 0, 1, 2, ..., 10 rather than 0, 1, 10, 2.
        names = sorted(present, key=float)
    else:
        names = sorted(present)
    if len(names) < 2:
        raise HarnessError(
            f"{path} column {label!r} has {len(names)} class(es) {names} in the train split: a "
            "classifier needs at least 2 (or set config.data.args.task=regression)."
        )
    names = [str(name) for name in names]
    return tuple(names), {name: i for i, name in enumerate(names)}


def _class_indices(path, label, split, texts, class_index) -> np.ndarray:
    unknown = sorted({str(t) for t in texts if t not in class_index})
    if unknown:
        raise HarnessError(
            f"{path} column {label!r}: the {split} split has class(es) {unknown[:5]} that the "
            f"train split lacks (its classes: {list(class_index)[:20]}): the model cannot learn "
            "them. Change split_seed or the fractions, or fix the labels."
        )
    return np.array([class_index[t] for t in texts], dtype=np.int32)


def _split_features(matrix, index, groups: dict[str, list[int]], strings: dict[str, np.ndarray]):
    """One split's features: a float32 matrix, a dict of inputs (`groups`), or, with string
    columns, a dict of those and the numeric matrix (or inputs)."""
    x = matrix[index].astype(np.float32)
    if groups:
        x = {group: x[:, columns] for group, columns in groups.items()}
    elif strings:
        x = {"numeric": x}
    if strings:
        x.update({col: values[index] for col, values in strings.items()})
    return x


def _split(count: int, validation_fraction: float, test_fraction: float, seed: int):
    """Test is a random `test_fraction`; validation a `validation_fraction` of the rest."""
    if not (0 < test_fraction < 1 and 0 < validation_fraction < 1):
        raise HarnessError(
            "config.data.args.test_fraction and validation_fraction must be between 0 and 1."
        )
    order = np.random.default_rng(seed).permutation(count)
    test_count = int(round(count * test_fraction))
    validation_count = int(round((count - test_count) * validation_fraction))
    test, rest = order[:test_count], order[test_count:]
    return rest[validation_count:], rest[:validation_count], test
