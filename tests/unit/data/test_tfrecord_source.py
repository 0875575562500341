"""TFRecord shards written by the prepare command, read back under several input pipelines."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from trainer.data.prepare import prepare
from trainer.data.sources import DataSource, DigitsSource, InMemorySource
from trainer.data.tfrecord_source import TfRecordSource
from trainer.errors import HarnessError


def _tfrecord(directory="", **overrides):
    fields = dict(
        dir=directory,
        spec="",
        train_pattern="",
        validation_pattern="",
        test_pattern="",
        cycle_length=4,
    )
    fields.update(overrides)
    return TfRecordSource(**fields)


def _digits():
    return DigitsSource(validation_examples=180, test_examples=360, split_seed=0)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("shards") / "digits")
    prepare(_digits(), out, num_shards=4, overwrite=False)
    return out


def _rows(source, split, pipelines=1, pipeline=0):
    ctx = tf.distribute.InputContext(
        num_input_pipelines=pipelines, input_pipeline_id=pipeline, num_replicas_in_sync=pipelines
    )
    return [(x.tobytes(), int(y)) for x, y in source.examples(split, ctx).as_numpy_iterator()]


def test_prepare_writes_shards_and_a_spec(shards):
    with open(os.path.join(shards, "spec.json")) as f:
        spec = json.load(f)
    assert spec["num_classes"] == 10 and spec["label"] == "label"
    assert spec["features"] == {
        "features": {"dtype": "float32", "shape": [64]},
        "label": {"dtype": "int32", "shape": []},
    }
    assert {s: v["examples"] for s, v in spec["splits"].items()} == {
        "train": 1257,
        "validation": 180,
        "test": 360,
    }
    assert len(spec["splits"]["train"]["shards"]) == 4


@pytest.mark.parametrize("num_shards", [4, 1])  # By file, then by record (fewer files).
def test_two_pipelines_read_disjoint_halves_in_a_fixed_order(tmp_path, num_shards):
    out = str(tmp_path / "digits")
    prepare(_digits(), out, num_shards=num_shards, overwrite=False)
    source = _tfrecord(out)
    halves = [_rows(source, "train", 2, i) for i in range(2)]
    whole = _rows(source, "train")
    assert not set(halves[0]) & set(halves[1])
    assert sorted(halves[0] + halves[1]) == sorted(whole)
    assert sorted(whole) == sorted(
        (x.tobytes(), int(y)) for x, y in zip(*_digits()._splits["train"], strict=True)
    )
    assert [_rows(source, "train", 2, i) for i in range(2)] == halves  # Same order again.


def test_prepare_refuses_a_non_empty_directory_unless_asked(shards):
    with pytest.raises(HarnessError, match="is not empty: pass --overwrite"):
        prepare(_digits(), shards, num_shards=2, overwrite=False)


def _copy(shards, tmp_path):
    out = tmp_path / "copy"
    out.mkdir()
    for name in os.listdir(shards):
        (out / name).write_bytes((open(os.path.join(shards, name), "rb")).read())
    return out


def test_a_truncated_shard_is_named(shards, tmp_path):
    out = _copy(shards, tmp_path)
    shard = out / "train-00002-of-00004.tfrecord"
    shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(HarnessError, match=f"Shard {out}/train-00002-of-00004.tfrecord has 1000"):
        _tfrecord(str(out))


def test_a_spec_that_does_not_match_the_records_names_the_feature(shards, tmp_path):
    out = _copy(shards, tmp_path)
    spec = json.loads((out / "spec.json").read_text())
    spec["features"]["features"]["shape"] = [8, 8]
    (out / "spec.json").write_text(json.dumps(spec))
    with pytest.raises(HarnessError, match="do not match spec.json at feature 'features'"):
        _tfrecord(str(out))


def test_missing_spec_missing_shard_and_unknown_split_are_named(shards, tmp_path):
    with pytest.raises(HarnessError, match="No feature spec at"):
        _tfrecord(str(tmp_path))
    out = _copy(shards, tmp_path)
    os.remove(out / "test-00001-of-00004.tfrecord")
    with pytest.raises(HarnessError, match="test-00001-of-00004.tfrecord named in spec.json is"):
        _tfrecord(str(out))
    with pytest.raises(HarnessError, match="Split 'dev' does not exist"):
        _rows(_tfrecord(shards), "dev")


def test_patterns_and_a_spec_from_the_config_read_files_written_elsewhere(shards):
    spec = json.dumps(
        {
            "features": {
                "features": {"dtype": "float32", "shape": [64]},
                "label": {"dtype": "int32", "shape": []},
            },
            "label": "label",
            "num_classes": 10,
        }
    )
    patterns = {
        f"{split}_pattern": os.path.join(shards, f"{split}-*.tfrecord")
        for split in ("train", "validation", "test")
    }
    source = _tfrecord(spec=spec, **patterns)
    assert sorted(_rows(source, "validation")) == sorted(_rows(_tfrecord(shards), "validation"))
    with pytest.raises(HarnessError, match="test_pattern='/nowhere/x-\\*' matches no files"):
        _rows(_tfrecord(spec=spec, **{**patterns, "test_pattern": "/nowhere/x-*"}), "test")


def test_prepare_writes_to_a_remote_filesystem(tmp_path):
    # ram:// stands in for gs://: prepare and the source go through tf.io.gfile only.
    out = f"ram://{tmp_path.name}/digits"
    prepare(_digits(), out, num_shards=2, overwrite=False)
    source = _tfrecord(out)
    assert len(_rows(source, "test")) == 360


def test_the_train_file_order_follows_the_seed(shards):
    def first_rows(seed):
        return _rows(_tfrecord(shards, seed=seed), "train")[:20]

    assert first_rows(1) == first_rows(1)
    assert sorted(_rows(_tfrecord(shards, seed=1), "train")) == sorted(
        _rows(_tfrecord(shards, seed=2), "train")
    )
    assert any(first_rows(1) != first_rows(seed) for seed in (2, 3, 4))


def test_prepare_deals_examples_to_shards_in_turn(shards):
    with open(os.path.join(shards, "spec.json")) as f:
        spec = json.load(f)
    counts = [shard["examples"] for shard in spec["splits"]["train"]["shards"]]
    assert counts == [315, 314, 314, 314]  # 1257 examples: example i in shard i % 4.
    first = next(
        iter(tf.data.TFRecordDataset(os.path.join(shards, "train-00001-of-00004.tfrecord")))
    )
    features, label = _tfrecord(shards)._parse(first)
    x, y = _digits()._splits["train"]
    np.testing.assert_array_equal(features.numpy(), x[1])
    assert int(label) == int(y[1])


def test_prepare_round_trips_string_features_and_batches_larger_than_a_split(tmp_path):
    rng = np.random.default_rng(0)
    splits = {
        split: (
            {
                "numeric": rng.standard_normal((count, 3)).astype(np.float32),
                "city": np.array([f"city{i % 7}".encode() for i in range(count)], dtype=object),
            },
            rng.standard_normal((count, 1)).astype(np.float32),
        )
        for split, count in (("train", 23), ("validation", 5), ("test", 1))
    }
    out = str(tmp_path / "strings")
    prepare(InMemorySource(splits, None), out, num_shards=2, overwrite=False, batch_size=4)
    source = _tfrecord(out)
    for split, (features, labels) in splits.items():
        rows = list(source.examples(split, tf.distribute.InputContext()).as_numpy_iterator())
        assert len(rows) == len(labels)
        read = {(r[0]["city"], r[0]["numeric"].tobytes(), r[1].tobytes()) for r in rows}
        assert read == {
            (c, n.tobytes(), y.tobytes())
            for c, n, y in zip(features["city"], features["numeric"], labels, strict=True)
        }


class _Ragged(DataSource):
    """Examples whose feature length varies (shape [None]): prepare writes them one by one."""

    def examples(self, split, input_context):
        return tf.data.Dataset.range(1, 6).map(lambda i: (tf.range(i, dtype=tf.float32), i))


def test_prepare_writes_examples_of_varying_shapes(tmp_path):
    out = str(tmp_path / "ragged")
    spec = prepare(_Ragged(), out, num_shards=2, overwrite=False)
    assert spec["features"]["features"] == {"dtype": "float32", "shape": [None]}
    rows = list(_tfrecord(out).examples("test", tf.distribute.InputContext()).as_numpy_iterator())
    assert sorted((len(x), int(y)) for x, y in rows) == [(i, i) for i in range(1, 6)]
