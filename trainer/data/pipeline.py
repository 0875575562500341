"""The tf.data stages every source shares: cache, shuffle, repeat, batch, prefetch.

Training batches of an in-memory source (numpy arrays) skip the per-example stages: each epoch
is a seeded permutation of all the indices, cut into batches that are gathered from the arrays
at once (about 1.4x the examples/s of shuffle-repeat-batch here; benchmarks/README.md). With
`cache="memory"`, a streamed source's split (its pipeline's shard) is decoded once into arrays
the same way when it takes at most MATERIALIZE_BYTES; a larger or ragged one is cached and
shuffled example by example.

Evaluation is exact, and no replica ever gets an empty batch. Each global batch is divided across
the replicas in sync, as Keras's own `evaluate` divides it under a strategy; where the split's size
would leave the last global batch too small for that, the examples of the last two global batches
are spread evenly over their per-replica batches (`eval_batch_sizes`). An empty batch crashes a
Conv2D on CPU (oneDNN) and makes a `test_step` that averages over the batch NaN. Padding the last
batches with zero-weight examples was the alternative, rejected: Keras 3's compiled loss divides
by the batch size (`sum_over_batch_size`) and its loss tracker weighs each batch by its size, so
padded examples would count.
"""

import math
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from trainer.data.sources import DataSource, shuffled_batches
from trainer.errors import HarnessError

# The most a pipeline's decoded training split may take to be held as arrays (its tensors are
# then copied once more into the input graph).
MATERIALIZE_BYTES = 256 * 2**20


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
    class_weights: tuple[float, ...] = (),
) -> Callable[[tf.distribute.InputContext], tf.data.Dataset]:
    """A `dataset_fn` for `strategy.distribute_datasets_from_function`.

    `cache` is "memory", a file prefix (for data larger than memory), or "" for none. Training
    datasets shuffle (seeded), repeat forever and drop the last partial batch; unless the source
    shards by itself, every input pipeline shuffles the whole split with the same seed and keeps
    every n-th per-replica batch: n pipelines together see the same global batches, in the same
    order, as one. Evaluation datasets pass once over the split in per-replica batches of the
    sizes `eval_batch_sizes` plans, every pipeline keeping every n-th of them; `max_steps` > 0
    limits an evaluation to that many global batches. `class_weights` (training only) gives
    each example the weight of its class, as Keras's `fit(class_weight=...)` does. The function
    must run eagerly (as `distribute_datasets_from_function` runs it): it may count the
    evaluation split.
    """

    def cached(dataset: tf.data.Dataset, input_context) -> tf.data.Dataset:
        if cache == "memory":
            return dataset if source.streams(split) else dataset.cache()
        if cache:  # A file prefix (local or gs://), one cache per split and input pipeline.
            # An evaluation cache holds the whole split: its own name, never a training shard's.
            whole = "" if training else "-whole"
            return dataset.cache(f"{cache}-{split}{whole}-{input_context.input_pipeline_id}")
        return dataset

    def dataset_fn(input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        batch_size = input_context.get_per_replica_batch_size(global_batch_size)
        if not training:
            return _evaluation_batches(
                source, split, input_context, batch_size, max_steps, cached
            ).prefetch(tf.data.AUTOTUNE)
        dataset = _training_batches(
            source, split, input_context, batch_size, seed, shuffle_buffer, cache, cached
        )
        dataset = _pipeline_share(dataset, source, input_context, class_weights, max_steps)
        return dataset.prefetch(tf.data.AUTOTUNE)

    return dataset_fn


def _training_batches(
    source, split, input_context, batch_size, seed, shuffle_buffer, cache, cached
) -> tf.data.Dataset:
    """The split's per-replica batches, shuffled (seeded) and repeated forever: the source's own,
    else arrays decoded once and batched as such, else example by example."""
    pipeline_seed = seed + (input_context.input_pipeline_id if source.shards_itself else 0)
    dataset = source.training_batches(split, batch_size, seed=seed)
    if dataset is None and cache == "memory" and not source.streams(split):
        # Decoded once, then batched as arrays.
        arrays = _in_memory(source.examples(split, input_context), MATERIALIZE_BYTES)
        if arrays is not None:
            dataset = shuffled_batches(arrays, batch_size, pipeline_seed)
    if dataset is None:
        dataset = cached(source.examples(split, input_context), input_context)
        dataset = dataset.shuffle(
            shuffle_buffer, seed=pipeline_seed, reshuffle_each_iteration=True
        ).repeat()
        dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset


def _pipeline_share(dataset, source, input_context, class_weights, max_steps) -> tf.data.Dataset:
    """This input pipeline's training batches (every n-th, unless the source shards itself),
    weighted by class if asked, and limited to `max_steps` global batches when set."""
    if not source.shards_itself and input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if class_weights:  # After sharding: only this pipeline's batches.
        dataset = dataset.map(_weigh_by_class(class_weights), num_parallel_calls=tf.data.AUTOTUNE)
    if max_steps:
        replicas_per_pipeline = (
            input_context.num_replicas_in_sync // input_context.num_input_pipelines
        )
        dataset = dataset.take(max_steps * replicas_per_pipeline)
    return dataset


def _in_memory(dataset: tf.data.Dataset, limit: int):
    """This pipeline's examples as numpy arrays, or None when they take more than `limit`
    bytes or do not batch (examples of different shapes)."""
    chunks, size = [], 0
    try:
        for chunk in dataset.batch(4096).as_numpy_iterator():
            size += sum(np.asarray(a).nbytes for a in tf.nest.flatten(chunk))
            if size > limit:
                return None
            chunks.append(chunk)
    except tf.errors.InvalidArgumentError:  # Ragged examples: the per-example path takes them.
        return None
    if not chunks:
        return None
    return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *chunks)


def _weigh_by_class(class_weights):
    weights = tf.constant(class_weights, tf.float32)

    def weigh(features, labels):
        if labels.dtype.is_integer:  # Class indices, shape (batch,) or (batch, 1).
            per_example = tf.gather(weights, tf.reshape(labels, [-1]))
        else:  # One-hot (or smoothed) rows.
            per_example = tf.reduce_sum(tf.cast(labels, tf.float32) * weights, axis=-1)
        return features, labels, per_example

    return weigh


def _evaluation_batches(source, split, input_context, batch_size, max_steps, cached):
    """The whole split (or its first `max_steps` global batches) in the planned batch sizes."""
    # Every pipeline reads the whole split in one order, even from a source that could shard
    # itself by file: only then can the pipelines agree on the plan and on which example falls
    # into which batch. The cost is that each worker reads the whole evaluation split.
    examples = source.examples(split, tf.distribute.InputContext())
    # Every pipeline must see the same order: no parallel map may reorder it.
    options = tf.data.Options()
    options.deterministic = True
    examples = examples.with_options(options)
    replicas = input_context.num_replicas_in_sync
    if max_steps > 0:  # Before the cache, so that the cache holds all it reads.
        examples = examples.take(max_steps * replicas * batch_size)
    examples = cached(examples, input_context)
    num_examples = int(examples.cardinality())
    if num_examples == tf.data.INFINITE_CARDINALITY:
        raise HarnessError(
            f"The {split} split never ends: set config.eval.steps to evaluate a number of batches."
        )
    if num_examples < 0:  # Unknown (a filter, a file source): count it, once per dataset_fn.
        num_examples = int(examples.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))
    sizes = eval_batch_sizes(num_examples, replicas, batch_size, split=split)

    # One pass in the planned sizes (reading the cached split twice, a head and a tail, would
    # make two cache writers). `rebatch` cuts and joins batches across input batches.
    dataset = examples.batch(batch_size).rebatch(sizes)
    if input_context.num_input_pipelines > 1:
        # Every n-th per-replica batch. A pipeline's replicas take its batches in turn, so step
        # s still runs per-replica batches s*R .. s*R+R-1 of the one global order.
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset


def eval_batch_sizes(
    num_examples: int, replicas: int, per_replica_batch: int, *, split: str = "evaluation"
) -> list[int]:
    """Per-replica batch sizes of an evaluation, in global order (step s, replica k: s*R + k).

    Every step is full except that the examples of the last two steps (of the only step, if one)
    are spread over their per-replica batches as evenly as possible: sizes differ by at most one,
    none is empty. Raises HarnessError when some replica would still get no example.
    """
    steps = math.ceil(num_examples / (replicas * per_replica_batch))
    if num_examples == 0:
        raise HarnessError(f"The {split} split is empty: there is nothing to evaluate.")
    if num_examples < replicas:
        raise HarnessError(
            f"The {split} split has {num_examples} example{'s' if num_examples > 1 else ''}, "
            f"fewer than the {replicas} replicas in sync: every replica needs at least one; "
            f"evaluate it on fewer replicas or give it at least {replicas} examples."
        )
    # With 2 or more examples per replica the last two steps always have enough; with 1 only a
    # split that fills every step does.
    if num_examples < steps * replicas:
        raise HarnessError(
            f"The {split} split has {num_examples} examples; with {replicas} replicas in sync and "
            f"{per_replica_batch} example per replica per batch (config.eval.global_batch_size="
            f"{replicas * per_replica_batch}) some replica would get an empty batch: use "
            f"config.eval.global_batch_size of at least {2 * replicas} (2 per replica)."
        )
    tail_batches = replicas * min(steps, 2)
    full = replicas * steps - tail_batches
    tail_examples = num_examples - full * per_replica_batch
    small, extra = divmod(tail_examples, tail_batches)
    return [per_replica_batch] * full + [small + 1] * extra + [small] * (tail_batches - extra)
