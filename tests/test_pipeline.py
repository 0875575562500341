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
