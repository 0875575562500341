import math
import os

import numpy as np
import pytest
import tensorflow as tf

from trainer.data import make_dataset_fn
from trainer.data.pipeline import eval_batch_sizes
from trainer.data.sources import InMemorySource, SyntheticSource
from trainer.errors import HarnessError


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


def test_evaluation_keeps_every_example_and_can_be_limited():
    fn = make_dataset_fn(_source(), "test", global_batch_size=16, training=False, seed=0)
    sizes = [b[0].shape[0] for b in fn(tf.distribute.InputContext()).as_numpy_iterator()]
    assert sizes == [16, 16, 9, 9]  # The last two batches share their 18 examples evenly.
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
    assert any(name.startswith("cache-test-whole-0") for name in os.listdir(tmp_path))
    again = [b[0].tobytes() for b in fn(tf.distribute.InputContext()).as_numpy_iterator()]
    assert first == again and len(first) == 4


def _plain_split(num_examples, replicas, per_replica_batch):
    """Per-replica batches of b in order, then the partial one, then empty ones to a full step."""
    steps = math.ceil(num_examples / (replicas * per_replica_batch))
    full, rest = divmod(num_examples, per_replica_batch)
    sizes = [per_replica_batch] * full + ([rest] if rest else [])
    return sizes + [0] * (steps * replicas - len(sizes))


def test_eval_batch_sizes_change_only_the_last_two_steps_and_leave_none_empty():
    for num_examples in [*range(1, 400), 1797]:
        for replicas in (1, 2, 3, 8):
            for batch in (1, 2, 3, 4, 5, 128):
                plain = _plain_split(num_examples, replicas, batch)
                if num_examples < len(plain):  # Fewer examples than per-replica batches.
                    with pytest.raises(HarnessError):
                        eval_batch_sizes(num_examples, replicas, batch)
                    continue
                sizes = eval_batch_sizes(num_examples, replicas, batch)
                case = (num_examples, replicas, batch, sizes)
                assert sum(sizes) == num_examples, case
                assert len(sizes) == len(plain) and len(sizes) % replicas == 0, case
                assert all(1 <= size <= batch for size in sizes), case
                tail = replicas * min(len(sizes) // replicas, 2)
                assert sizes[:-tail] == plain[:-tail], case
                assert max(sizes[-tail:]) - min(sizes[-tail:]) <= 1, case
                if num_examples % (replicas * batch) == 0:
                    assert sizes == plain, case


def test_eval_batch_sizes_examples():
    assert eval_batch_sizes(360, 2, 128) == [90, 90, 90, 90]  # Was 128, 128, 104, empty.
    assert eval_batch_sizes(181, 2, 8)[-4:] == [6, 5, 5, 5]
    assert eval_batch_sizes(7, 3, 2) == [2, 1, 1, 1, 1, 1]
    assert eval_batch_sizes(5, 2, 128) == [3, 2]
    assert eval_batch_sizes(50, 1, 16) == [16, 16, 9, 9]


def test_eval_batch_sizes_that_cannot_avoid_an_empty_batch_say_how_to_fix_it():
    with pytest.raises(HarnessError) as error:
        eval_batch_sizes(181, 2, 1, split="test")
    assert str(error.value) == (
        "The test split has 181 examples; with 2 replicas in sync and 1 example per replica per "
        "batch (config.eval.global_batch_size=2) some replica would get an empty batch: use "
        "config.eval.global_batch_size of at least 4 (2 per replica)."
    )
    with pytest.raises(HarnessError, match="has 1 example, fewer than the 2 replicas in sync"):
        eval_batch_sizes(1, 2, 4, split="test")
    with pytest.raises(HarnessError, match="The validation split is empty"):
        eval_batch_sizes(0, 1, 4, split="validation")


class _FileLikeSource(InMemorySource):
    """Shards by itself, of unknown size, as a file source is: evaluation must not use that."""

    shards_itself = True

    def examples(self, split, input_context):
        dataset = super().examples(split, input_context).filter(lambda *example: True)
        return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)


def _numbered(num_examples, source_class=InMemorySource):
    """A test split whose features are the example numbers, with dict features and weights."""
    numbers = np.arange(num_examples, dtype=np.int64)
    features = {"number": numbers, "image": np.zeros((num_examples, 2, 2), np.float32)}
    weights = np.ones(num_examples, np.float32)
    return source_class({"test": (features, numbers % 3, weights)}, num_classes=3)


def _eval_batches(source, global_batch, pipelines, replicas, **options):
    """Per pipeline, the example numbers of each of its per-replica batches."""
    fn = make_dataset_fn(
        source, "test", global_batch_size=global_batch, training=False, seed=0, **options
    )
    result = []
    for pipeline in range(pipelines):
        ctx = tf.distribute.InputContext(
            num_input_pipelines=pipelines, input_pipeline_id=pipeline, num_replicas_in_sync=replicas
        )
        batches = []
        for features, labels, weights in fn(ctx).as_numpy_iterator():
            assert len(labels) == len(weights) == len(features["image"]) > 0
            batches.append(features["number"].tolist())
        result.append(batches)
    return result


@pytest.mark.parametrize("source_class", [InMemorySource, _FileLikeSource])
@pytest.mark.parametrize(
    "num_examples, global_batch, pipelines, replicas",
    [(181, 16, 2, 2), (181, 256, 2, 2), (360, 256, 2, 2), (5, 8, 2, 2), (181, 8, 2, 4),
     (7, 6, 3, 3), (50, 16, 1, 2)],
)  # fmt: skip
def test_pipelines_together_evaluate_every_example_once_in_the_one_pipeline_order(
    source_class, num_examples, global_batch, pipelines, replicas
):
    source = _numbered(num_examples, source_class)
    (one,) = _eval_batches(source, global_batch, 1, replicas)
    per_replica = global_batch // replicas
    plan = eval_batch_sizes(num_examples, replicas, per_replica)
    assert [len(batch) for batch in one] == plan
    assert [n for batch in one for n in batch] == list(range(num_examples))
    shards = _eval_batches(source, global_batch, pipelines, replicas)
    assert [len(shard) for shard in shards] == [len(plan) // pipelines] * pipelines
    interleaved = [shards[i % pipelines][i // pipelines] for i in range(len(plan))]
    assert interleaved == one


def test_evaluation_limited_to_max_steps_counts_only_those_examples():
    source = _numbered(181, _FileLikeSource)
    (batches,) = _eval_batches(source, 16, 1, 2, max_steps=3)
    assert [n for batch in batches for n in batch] == list(range(48))
    assert [len(batch) for batch in batches] == [8] * 6
    (batches,) = _eval_batches(source, 16, 1, 2, max_steps=100, cache="")
    assert sum(len(batch) for batch in batches) == 181


def test_an_evaluation_that_would_leave_a_replica_empty_fails_with_the_fix():
    with pytest.raises(HarnessError, match="global_batch_size of at least 4"):
        _eval_batches(_numbered(181), 2, 1, 2)
    with pytest.raises(HarnessError, match="has 1 example, fewer than the 2 replicas"):
        _eval_batches(_numbered(1), 8, 2, 2)


def test_in_memory_training_batches_are_one_permutation_per_epoch_across_epoch_ends():
    from trainer.data.sources import shuffled_batches

    features = np.arange(10, dtype=np.float32).reshape(10, 1) * 10
    labels = np.arange(10, dtype=np.int32)
    batches = list(shuffled_batches((features, labels), 4, seed=7).take(5).as_numpy_iterator())
    stream = np.concatenate([y for _, y in batches])  # 20 labels: two whole epochs.
    assert sorted(stream[:10]) == list(range(10)) and sorted(stream[10:]) == list(range(10))
    assert list(stream[:10]) != list(stream[10:])  # Reshuffled each epoch.
    for x, y in batches:
        np.testing.assert_array_equal(x[:, 0], y * 10)  # Features gathered with their labels.
    again = list(shuffled_batches((features, labels), 4, seed=7).take(5).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([y for _, y in again]), stream)  # Seeded.


def test_a_streamed_split_is_held_as_arrays_only_when_small_and_rectangular():
    from trainer.data.pipeline import _in_memory

    examples = tf.data.Dataset.from_tensor_slices(
        ({"x": np.ones((10, 3), np.float32)}, np.arange(10, dtype=np.int64))
    )
    features, labels = _in_memory(examples, limit=10_000)
    assert features["x"].shape == (10, 3) and list(labels) == list(range(10))
    assert _in_memory(examples, limit=100) is None  # 200 bytes: over the limit.
    ragged = tf.data.Dataset.range(1, 4).map(lambda n: (tf.ones([n]), n))
    assert _in_memory(ragged, limit=10_000) is None
