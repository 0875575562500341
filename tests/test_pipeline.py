import os

import tensorflow as tf

from trainer.data import make_dataset_fn
from trainer.data.sources import SyntheticSource


def _source():
    return SyntheticSource(input_shape=(3,), num_classes=2, num_examples=50, seed=0)


def test_training_batches_are_per_replica_full_and_repeat():
    fn = make_dataset_fn(_source(), "train", global_batch_size=16, training=True, seed=1)
    ctx = tf.distribute.InputContext(
        num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=2
    )
    batches = list(fn(ctx).take(10).as_numpy_iterator())  # 10 * 8 > 50: it repeats.
    assert [b[0].shape for b in batches] == [(8, 3)] * 10


def test_training_order_is_seeded():
    def first_batches(seed):
        fn = make_dataset_fn(_source(), "train", global_batch_size=8, training=True, seed=seed)
        return [
            b[0].tobytes() for b in fn(tf.distribute.InputContext()).take(4).as_numpy_iterator()
        ]

    assert first_batches(3) == first_batches(3)
    assert first_batches(3) != first_batches(4)


def test_evaluation_keeps_the_partial_last_batch_and_can_be_limited():
    fn = make_dataset_fn(_source(), "test", global_batch_size=16, training=False, seed=0)
    sizes = [b[0].shape[0] for b in fn(tf.distribute.InputContext()).as_numpy_iterator()]
    assert sizes == [16, 16, 16, 2]
    limited = make_dataset_fn(
        _source(), "test", global_batch_size=16, training=False, seed=0, max_steps=2
    )
    assert len(list(limited(tf.distribute.InputContext()).as_numpy_iterator())) == 2


def _two_pipelines(split, training, batches=None):
    """Per-replica batches (as bytes) of input pipelines 0 and 1 of a 2-worker cluster."""
    fn = make_dataset_fn(_source(), split, global_batch_size=8, training=training, seed=5)
    shards = []
    for pipeline in range(2):
        ctx = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2
        )
        dataset = fn(ctx) if batches is None else fn(ctx).take(batches)
        shards.append([row.tobytes() for x, _ in dataset.as_numpy_iterator() for row in x])
    return shards


def test_two_pipelines_see_disjoint_examples_whose_union_is_the_split():
    first, second = _two_pipelines("test", training=False)
    one = make_dataset_fn(_source(), "test", global_batch_size=8, training=False, seed=5)
    whole = [
        row.tobytes() for x, _ in one(tf.distribute.InputContext()).as_numpy_iterator() for row in x
    ]
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(whole)


def test_two_workers_see_the_global_batches_of_one_in_the_same_order():
    first, second = _two_pipelines("train", training=True, batches=3)
    one = make_dataset_fn(_source(), "train", global_batch_size=8, training=True, seed=5)
    rows = [
        row.tobytes()
        for x, _ in one(tf.distribute.InputContext()).take(3).as_numpy_iterator()
        for row in x
    ]
    for step in range(3):  # Global batch = worker 0's per-replica batch + worker 1's.
        assert (
            first[4 * step : 4 * step + 4] + second[4 * step : 4 * step + 4]
            == rows[8 * step : 8 * step + 8]
        )
    assert _two_pipelines("train", training=True, batches=3) == [first, second]


def test_a_file_cache_is_written_and_read_back(tmp_path):
    prefix = str(tmp_path / "cache")
    fn = make_dataset_fn(
        _source(), "test", global_batch_size=16, training=False, seed=0, cache=prefix
    )
    first = [b[0].tobytes() for b in fn(tf.distribute.InputContext()).as_numpy_iterator()]
    assert any(name.startswith("cache-test-0") for name in os.listdir(tmp_path))
    again = [b[0].tobytes() for b in fn(tf.distribute.InputContext()).as_numpy_iterator()]
    assert first == again and len(first) == 4
