"""Parquet tables: values read back in memory and streamed, classification or regression by the
label's type, row-group sharding across input pipelines, one-line errors, and real runs under 1
replica, 2 replicas and 2 workers."""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tensorflow as tf

from tests.support.helpers import raises_one_line
from trainer.data.parquet_source import ParquetSource

SIZES = {"train": 1001, "validation": 53, "test": 67}  # Divide neither by the batch nor by 2.

WEIGHTS = np.array([1.0, -2.0, 0.5, 3.0])


def _table(count, seed):
    """Four numeric columns of mixed types and a float target; column `a` tells rows apart."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 4))
    x[:, 2] = np.round(x[:, 2] * 10)
    columns = {
        "a": x[:, 0],
        "b": x[:, 1].astype(np.float32),
        "c": x[:, 2].astype(np.int64),
        "d": x[:, 3],
        "name": [f"row{i}" for i in range(count)],
        "target": x @ WEIGHTS + 0.05 * rng.standard_normal(count),
    }
    return pa.table(columns)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """{split: (path, table)}: train a directory of 3 files of 150-row row groups (7 in all)."""
    root = tmp_path_factory.mktemp("parquet")
    out = {}
    for seed, (split, count) in enumerate(SIZES.items()):
        table = _table(count, seed)
        if split == "train":
            (root / "train").mkdir()
            cuts = [0, 450, 750, count]
            for i in range(3):
                part = table.slice(cuts[i], cuts[i + 1] - cuts[i])
                pq.write_table(part, root / "train" / f"part-{i}.parquet", row_group_size=150)
            (root / "train" / "_SUCCESS").write_text("")
            out[split] = (str(root / "train"), table)
        else:
            pq.write_table(table, root / f"{split}.parquet", row_group_size=20)
            out[split] = (str(root / f"{split}.parquet"), table)
    return out


def _source(tables, **args):
    args.setdefault("features", ("a", "b", "c", "d"))
    args.setdefault("label", "target")
    return ParquetSource(**{split: tables[split][0] for split in SIZES}, **args)


def _rows(source, split, pipelines=1, pipeline=0):
    context = tf.distribute.InputContext(
        num_input_pipelines=pipelines, input_pipeline_id=pipeline, num_replicas_in_sync=pipelines
    )
    return list(source.examples(split, context).as_numpy_iterator())


def _expected(table, features=("a", "b", "c", "d")):
    x = np.stack([table.column(n).to_numpy().astype(np.float32) for n in features], axis=1)
    return x, table.column("target").to_numpy().astype(np.float32)[:, None]


@pytest.mark.parametrize("memory_limit_mb", [256.0, 0.0])  # In memory, then streamed.
def test_values_read_back_in_file_order(tables, memory_limit_mb):
    source = _source(tables, memory_limit_mb=memory_limit_mb)
    assert source.in_memory("train") == (memory_limit_mb > 0)
    assert source.shards_itself == (memory_limit_mb == 0) and source.num_classes is None
    for split in SIZES:
        rows = _rows(source, split)
        x, y = _expected(tables[split][1])
        assert len(rows) == SIZES[split]
        assert rows[0][0].dtype == np.float32 and rows[0][1].shape == (1,)
        if split != "train" or memory_limit_mb:  # Streamed train: a seeded row-group order.
            np.testing.assert_allclose(np.stack([r[0] for r in rows]), x, rtol=1e-6)
            np.testing.assert_allclose(np.stack([r[1] for r in rows]), y, rtol=1e-6)
        else:
            assert sorted(r[0].tobytes() for r in rows) == sorted(r.tobytes() for r in x)


def test_default_features_are_every_column_but_the_label(tables, tmp_path):
    table = tables["validation"][1].drop_columns(["name"])
    path = str(tmp_path / "v.parquet")
    pq.write_table(table, path)
    source = ParquetSource(train=path, validation=path, test=path, label="target")
    assert source.train_features().shape == (SIZES["validation"], 4)


@pytest.mark.parametrize("groups_per_pipeline", ["by row group", "by example"])
def test_two_pipelines_read_disjoint_parts_that_cover_every_row_once(
    tables, tmp_path, groups_per_pipeline
):
    if groups_per_pipeline == "by row group":
        source = _source(tables, memory_limit_mb=0)  # 7 row groups for 2 pipelines.
        table = tables["train"][1]
    else:  # One row group, 2 pipelines: each keeps every other example.
        table = tables["test"][1]
        path = str(tmp_path / "one.parquet")
        pq.write_table(table, path, row_group_size=1000)
        source = ParquetSource(
            train=path,
            validation=path,
            test=path,
            features=("a", "b", "c", "d"),
            label="target",
            memory_limit_mb=0,
        )
    halves = [[r[0].tobytes() for r in _rows(source, "train", 2, i)] for i in range(2)]
    assert not set(halves[0]) & set(halves[1])
    everything = sorted(r.tobytes() for r in _expected(table)[0])
    assert sorted(halves[0] + halves[1]) == everything
    if groups_per_pipeline == "by row group":  # Each row group wholly in one half.
        starts = [0, 150, 300, 450, 600, 750, 900, 1001]  # Files of 450, 300, 251 rows.
        rows = [r.tobytes() for r in _expected(table)[0]]
        for begin, end in zip(starts[:-1], starts[1:], strict=True):
            assert len({0 if row in halves[0] else 1 for row in rows[begin:end]}) == 1


def test_integer_labels_classify(tmp_path):
    rng = np.random.default_rng(0)
    paths = {}
    for split, count in SIZES.items():
        paths[split] = str(tmp_path / f"{split}.parquet")
        labels = np.arange(count) % 3
        pq.write_table(pa.table({"x": rng.standard_normal(count), "y": labels}), paths[split])
    source = ParquetSource(**paths, label="y")
    assert source.num_classes == 3
    x, y = source.training_batches("train", 8, seed=0).take(1).get_single_element()
    assert y.dtype == tf.int32 and y.shape == (8,) and x.shape == (8, 1)
    pq.write_table(pa.table({"x": [0.0, 1.0], "y": [0, 5]}), paths["test"])
    raises_one_line(
        lambda: ParquetSource(**paths, label="y"), "test split has label 5", "labels 0..2"
    )


def test_errors_are_one_line_and_name_the_bad_value(tables, tmp_path, monkeypatch):
    raises_one_line(
        lambda: _source({**tables, "test": (str(tmp_path / "nope.parquet"), None)}),
        "config.data.args.test=",
        "nope.parquet",
        "matches no Parquet file",
    )
    raises_one_line(
        lambda: _source(tables, features=("a", "zz")), "no column(s) ['zz']", "'name', 'target'"
    )
    raises_one_line(
        lambda: _source(tables, features=()), "column 'name' is string, not numeric", "'target'"
    )
    empty = str(tmp_path / "empty.parquet")
    pq.write_table(tables["test"][1].slice(0, 0), empty)
    raises_one_line(
        lambda: _source({**tables, "validation": (empty, None)}), "validation", "no rows"
    )
    holes = str(tmp_path / "holes.parquet")
    pq.write_table(
        pa.table(
            {"a": [1.0, None], "b": [0.0, 1.0], "c": [1, 2], "d": [0.0, 0.0], "target": [0.5, 0.25]}
        ),
        holes,
    )
    raises_one_line(lambda: _source({**tables, "test": (holes, None)}), "column 'a'", "missing")
    text = tmp_path / "text.parquet"
    text.write_text("not parquet")
    raises_one_line(lambda: _source({**tables, "test": (str(text), None)}), "not a readable")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    raises_one_line(lambda: _source(tables), 'pip install -e ".[parquet]"')
