"""NumPy .npz files: values read back, classification or regression by the label's dtype, split
fractions, one-line errors, and real runs under 1 replica, 2 replicas and 2 workers."""

import numpy as np
import tensorflow as tf

from tests.support.helpers import raises_one_line
from trainer.data.npz_source import NpzSource


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0), digits.target  # float64 features, int64 labels


def _regression(count, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 5))
    return x, x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * rng.standard_normal(count)


def _rows(source, split):
    dataset = source.examples(split, tf.distribute.InputContext())
    return list(dataset.as_numpy_iterator())


def test_one_file_cut_by_seeded_fractions_keeps_every_row_once(tmp_path):
    x, y = _digits()
    np.savez(tmp_path / "digits.npz", x=x, y=y)
    source = NpzSource(path=str(tmp_path / "digits.npz"), validation_fraction=0.2, split_seed=3)
    assert source.num_classes == 10
    sizes = {split: len(source.splits[split][1]) for split in source.splits}
    test = round(1797 * 0.25)
    assert sizes == {"test": test, "validation": round((1797 - test) * 0.2), "train": 1078}
    seen = np.concatenate([source.splits[s][0] for s in ("train", "validation", "test")])
    assert sorted(map(bytes, seen)) == sorted(map(bytes, x.astype(np.float32)))
    features, label = source.splits["train"]
    assert features.dtype == np.float32 and features.shape == (1078, 64)
    assert label.dtype == np.int32 and label.shape == (1078,)
    again = NpzSource(path=str(tmp_path / "digits.npz"), validation_fraction=0.2, split_seed=3)
    np.testing.assert_array_equal(again.splits["test"][0], source.splits["test"][0])
    other = NpzSource(path=str(tmp_path / "digits.npz"), validation_fraction=0.2, split_seed=4)
    assert not np.array_equal(other.splits["test"][0], source.splits["test"][0])


def test_one_file_per_split_reads_back_its_values_and_float_labels_regress(tmp_path):
    files = {}
    for seed, (split, count) in enumerate((("train", 301), ("validation", 53), ("test", 67))):
        x, y = _regression(count, seed)
        files[split] = str(tmp_path / f"{split}.npz")
        np.savez(files[split], features=x, target=y, other=np.zeros(3))
        files[f"_{split}"] = (x, y)
    source = NpzSource(
        **{s: files[s] for s in ("train", "validation", "test")},
        features=("features",),
        label="target",
    )
    assert source.num_classes is None
    for split in ("train", "validation", "test"):
        x, y = files[f"_{split}"]
        rows = _rows(source, split)
        assert len(rows) == len(x)
        np.testing.assert_allclose(np.stack([r[0] for r in rows]), x, rtol=1e-6)
        np.testing.assert_allclose(np.stack([r[1] for r in rows]), y[:, None], rtol=1e-6)
        assert rows[0][1].dtype == np.float32 and rows[0][1].shape == (1,)


def test_several_feature_arrays_become_named_inputs(tmp_path):
    x, y = _regression(41)
    np.savez(tmp_path / "d.npz", wide=x[:, :2], deep=x.astype(np.int64), y=(y > 0).astype(int))
    source = NpzSource(path=str(tmp_path / "d.npz"), features=("wide", "deep"))
    features, labels = source.splits["train"]
    assert set(features) == {"wide", "deep"} and source.num_classes == 2
    assert features["wide"].dtype == np.float32 and features["deep"].dtype == np.int64


def _bad(tmp_path, name, **arrays):
    path = str(tmp_path / name)
    np.savez(path, **arrays)
    return path


def test_errors_are_one_line_and_name_the_bad_value(tmp_path):
    x, y = _regression(20)
    good = _bad(tmp_path, "good.npz", x=x, y=y)
    raises_one_line(lambda: NpzSource(path=str(tmp_path / "nope.npz")), "nope.npz", "Cannot read")
    raises_one_line(
        lambda: NpzSource(path=good, features=("inputs",)), "no array(s) ['inputs']", "['x', 'y']"
    )
    short = _bad(tmp_path, "short.npz", x=x, y=y[:19])
    raises_one_line(lambda: NpzSource(path=short), "{'x': 20, 'y': 19}")
    raises_one_line(lambda: NpzSource(path=good, test_fraction=0.01), "validation", "empty")
    raises_one_line(lambda: NpzSource(path=good, train=good), "both path=")
    raises_one_line(lambda: NpzSource(train=good, test=good), "config.data.args.validation")
    raises_one_line(lambda: NpzSource(), "config.data.args.path is empty")
    classes = _bad(tmp_path, "c.npz", x=x, y=np.arange(20) % 3)
    unknown = _bad(tmp_path, "u.npz", x=x[:5], y=np.array([0, 1, 7, 2, 1]))
    raises_one_line(
        lambda: NpzSource(train=classes, validation=classes, test=unknown),
        "test split from",
        "label 7",
        "labels 0..2",
    )
    empty = _bad(tmp_path, "e.npz", x=x[:0], y=y[:0])
    raises_one_line(
        lambda: NpzSource(train=good, validation=empty, test=good), "validation", "empty"
    )
    np.save(tmp_path / "one.npy", x)
    raises_one_line(lambda: NpzSource(path=str(tmp_path / "one.npy")), "single array")
    (tmp_path / "text.npz").write_text("hello")
    raises_one_line(lambda: NpzSource(path=str(tmp_path / "text.npz")), "not a readable .npz")


def test_integer_labels_under_a_regression_loss_are_a_target(tmp_path):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    prices = np.arange(20, dtype=np.int64) * 1000  # Whole dollars: a target, not 19,001 classes.
    np.savez(tmp_path / "prices.npz", x=x, y=prices)
    target = NpzSource(path=str(tmp_path / "prices.npz"), loss="mse")
    assert target.num_classes is None
    labels = target.splits["train"][1]
    assert labels.dtype == np.float32 and labels.shape[1:] == (1,)
