"""The tf.data stages every source shares: cache, shuffle, repeat, batch, prefetch."""

from collections.abc import Callable

import tensorflow as tf

from trainer.data.sources import DataSource


def make_dataset_fn(
    source: DataSource,
    split: str,
    *,
    global_batch_size: int,
    training: bool,
    seed: int,
    shuffle_buffer: int = 10_000,
    cache: str = "memory",
    max_steps: int = 0,
) -> Callable[[tf.distribute.InputContext], tf.data.Dataset]:
    """A `dataset_fn` for `strategy.distribute_datasets_from_function`.

    `cache` is "memory", a file prefix (for data larger than memory), or "" for none. Training
    datasets shuffle (seeded), repeat forever and drop the last partial batch; evaluation
    datasets pass once over the split and keep it. `max_steps` > 0 limits an evaluation to that
    many global batches. Unless the source shards by itself, every input pipeline shuffles the
    whole split with the same seed and keeps every n-th per-replica batch: n pipelines together
    see the same global batches, in the same order, as one.
    """

    def dataset_fn(input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        batch_size = input_context.get_per_replica_batch_size(global_batch_size)
        dataset = source.examples(split, input_context)
        if cache == "memory":
            dataset = dataset.cache()
        elif cache:  # A file prefix (local or gs://), one cache per split and input pipeline.
            dataset = dataset.cache(f"{cache}-{split}-{input_context.input_pipeline_id}")
        if training:
            pipeline_seed = seed + (input_context.input_pipeline_id if source.shards_itself else 0)
            dataset = dataset.shuffle(
                shuffle_buffer, seed=pipeline_seed, reshuffle_each_iteration=True
            ).repeat()
        dataset = dataset.batch(batch_size, drop_remainder=training)
        if not source.shards_itself and input_context.num_input_pipelines > 1:
            dataset = dataset.shard(
                input_context.num_input_pipelines, input_context.input_pipeline_id
            )
        if max_steps:
            replicas_per_pipeline = (
                input_context.num_replicas_in_sync // input_context.num_input_pipelines
            )
            dataset = dataset.take(max_steps * replicas_per_pipeline)
        return dataset.prefetch(tf.data.AUTOTUNE)

    return dataset_fn
