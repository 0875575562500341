"""Data sources: each yields unbatched (features, label) examples of one input pipeline's shard.

A source knows its splits and how to shard them; batching, shuffling, caching and prefetching are
the pipeline's job (trainer/data/pipeline.py), the same for every source.
"""

import abc

import numpy as np
import tensorflow as tf

from trainer.errors import HarnessError

SPLITS = ("train", "validation", "test")
# Examples a streaming source reads from its train split to adapt preprocessing layers.
ADAPT_EXAMPLES = 20_000


class DataSource(abc.ABC):
    """Where examples come from. Subclasses implement `examples`; the rest has defaults.

    `config.data.source` names the subclass (registered in `trainer.data.SOURCES`, or as
    `package.module:Class`); the harness constructs it with `config.data.args` as keyword
    arguments, plus `seed` (`config.seed`) and `loss` (`config.train.loss`) when the constructor
    declares them. Its keyword defaults are the defaults of `config.data.args`.

    A source that can shard cheaply (by file) returns only its input pipeline's part of the
    train split and sets `shards_itself`; otherwise it returns the whole split and the pipeline
    gives each input pipeline every n-th batch of the same seeded order, so that n workers see
    exactly the global batches that one worker would. Evaluation always reads a split whole
    (`examples` with a default `InputContext`), whatever `shards_itself` says, so that every
    pipeline agrees on which example lands in which batch.

    A source may also define `find_corrupt_file() -> str | None`: when reading fails with a
    `DataLossError` or an image that does not decode, the run's one-line error names the file it
    returns (trainer/run/failures.py).

    Attributes:
      num_classes: classes of the labels, for the model's head (`num_classes` of the builder);
        None for a regression target. `config.data.num_classes`, when set, replaces it.
      class_names: the classes' names in label order, when the data names them (string labels,
        class folders); the export serves them next to the probabilities. None otherwise.
      shards_itself: whether `examples` returns only its input pipeline's part of the train
        split (see above).
    """

    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    shards_itself: bool = False

    @abc.abstractmethod
    def examples(self, split: str, input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        """Unbatched examples of `split`: this pipeline's part if `shards_itself`, else all.

        Args:
          split: "train", "validation" or "test".
          input_context: which input pipeline asks, of how many (`input_pipeline_id`,
            `num_input_pipelines`). A default `InputContext()` (one pipeline) asks for the
            whole split.

        Returns:
          A `tf.data.Dataset` of `(features, label)` or `(features, label, sample_weight)`
            elements, one example each (not batched): features a tensor or a dict of tensors
            (one per named model input), the label a tensor or a dict (one per named output).
            A split that never ends is evaluated only with `config.eval.steps`. Batching,
            shuffling, caching and prefetching are the pipeline's job.

        Raises:
          HarnessError: for an unknown split, or data that cannot be read (name the file).
        """

    def train_features(self):
        """Train features in memory (numpy, same structure as one example's features), to adapt
        preprocessing layers: the first ADAPT_EXAMPLES of the train split for a streaming source.
        """
        dataset = self.examples("train", tf.distribute.InputContext())
        features = dataset.map(lambda x, y: x).take(ADAPT_EXAMPLES).batch(ADAPT_EXAMPLES)
        return next(iter(features.as_numpy_iterator()))

    def sample_batch(self, batch_size: int = 2):
        """A few local examples as one batch of eager tensors, to build the model and its state."""
        dataset = self.examples("train", tf.distribute.InputContext()).batch(batch_size)
        return next(iter(dataset.take(1)))

    def training_batches(self, split: str, batch_size: int, *, seed: int):
        """Endless shuffled batches of the whole split when the source can make them faster
        than shuffle-repeat-batch over `examples`; None (the default: the pipeline does that).

        Args:
          split: the split to batch ("train").
          batch_size: examples per batch: the per-replica batch.
          seed: the shuffle seed; every input pipeline gets the same one and must produce the
            same order, since the pipeline keeps every n-th batch (unless `shards_itself`).
        """
        return None

    def streams(self, split: str) -> bool:
        """Whether `split` may be larger than memory: the pipeline then neither holds it in
        memory nor caches it there (config.data.cache="memory" applies to the other splits)."""
        return False

    def sample_labels(self, count: int):
        """The labels of the first `count` train examples (checked against the model before
        training); sources that know them without decoding features say so."""
        return self.sample_batch(batch_size=count)[1]

    def num_examples(self, split: str) -> int | None:
        """How many examples the whole `split` has, when that is known without reading it:
        the dataset's own cardinality (arrays, lists of files). None for a streamed split or an
        unknown count (a filter, records in files); the harness then checks nothing against it.
        """
        if self.streams(split):
            return None
        count = int(self.examples(split, tf.distribute.InputContext()).cardinality())
        return count if count >= 0 else None  # -1 never ends, -2 unknown.


class InMemorySource(DataSource):
    """Splits held as numpy arrays; every input pipeline holds them all and takes its batches."""

    def __init__(self, splits: dict[str, tuple[np.ndarray, np.ndarray]], num_classes: int | None):
        self._splits = splits
        self.num_classes = num_classes

    @property
    def splits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{split: (features, labels)} as numpy arrays."""
        return self._splits

    def train_features(self):
        return self._splits["train"][0]

    def sample_labels(self, count: int):
        return tf.nest.map_structure(lambda labels: labels[:count], self._splits["train"][1])

    def num_examples(self, split: str) -> int | None:
        if split not in self._splits:
            return None
        return len(tf.nest.flatten(self._splits[split][1])[0])  # No copy into a dataset.

    def training_batches(self, split, batch_size, *, seed):
        self.examples(split, tf.distribute.InputContext())  # Names an unknown split.
        return shuffled_batches(self._splits[split], batch_size, seed)

    def examples(self, split, input_context):
        if split not in self._splits:
            raise HarnessError(
                f"Split {split!r} does not exist in this data source; it has "
                f"{sorted(self._splits)}."
            )
        return tf.data.Dataset.from_tensor_slices(self._splits[split])


class DigitsSource(InMemorySource):
    """scikit-learn's 1,797 handwritten digits (8x8, pixel values 0-16), scaled to [0, 1].

    Ships inside scikit-learn: no download.

    Args:
      validation_examples: digits held out for validation.
      test_examples: digits held out for test; the rest (1,257 by default) is the train split.
      split_seed: fixes which examples land in which split.
      classes: keep only these digits, labelled 0, 1, ... in the order given (empty: all), for
        transfer learning between tasks.
    """

    def __init__(
        self,
        *,
        validation_examples: int = 180,
        test_examples: int = 360,
        split_seed: int = 0,
        classes=(),
    ):
        from sklearn.datasets import load_digits

        digits = load_digits()
        features = (digits.data / 16.0).astype(np.float32)
        labels = digits.target.astype(np.int32)
        held_out = validation_examples + test_examples
        if not 0 < held_out < len(labels):
            raise HarnessError(
                f"config.data.args holds out {held_out} of {len(labels)} examples "
                f"(validation_examples={validation_examples}, test_examples={test_examples}); "
                "leave at least one for training and hold out at least one."
            )
        classes = [int(c) for c in classes] or list(range(10))
        if len(set(classes)) != len(classes) or not set(classes) <= set(range(10)):
            raise HarnessError(
                f"config.data.args.classes={tuple(classes)} must name distinct digits 0-9."
            )
        order = np.random.default_rng(split_seed).permutation(len(labels))
        test = order[:test_examples]
        validation = order[test_examples:held_out]
        train = order[held_out:]
        relabel = np.full(10, -1, dtype=np.int32)
        relabel[classes] = np.arange(len(classes))
        splits = {}
        for name, index in (("train", train), ("validation", validation), ("test", test)):
            index = index[relabel[labels[index]] >= 0]
            splits[name] = (features[index], relabel[labels[index]])
        super().__init__(splits, num_classes=len(classes))


class SyntheticSource(InMemorySource):
    """Random features with labels that are a fixed linear function of them (so it can learn).

    For benchmarks and shape tests, generated once in memory from `config.seed`.

    Args:
      input_shape: the shape of one example's features.
      num_classes: labels are the argmax of a fixed random projection of the features.
      num_examples: examples per split.
    """

    def __init__(
        self, *, input_shape=(784,), num_classes: int = 10, num_examples: int = 8192, seed: int = 0
    ):
        input_shape = tuple(int(d) for d in input_shape)
        if num_classes < 2 or num_examples < 1 or not input_shape or min(input_shape) < 1:
            raise HarnessError(
                "config.data.args of the synthetic source need num_classes >= 2, num_examples >= 1 "
                "and a non-empty "
                f"input_shape of positive sizes; got num_classes={num_classes}, "
                f"num_examples={num_examples}, input_shape={input_shape}."
            )
        rng = np.random.default_rng(seed)
        projection = rng.standard_normal((int(np.prod(input_shape)), num_classes))
        splits = {}
        for split in SPLITS:
            features = rng.standard_normal((num_examples, *input_shape)).astype(np.float32)
            labels = np.argmax(features.reshape(num_examples, -1) @ projection, axis=1)
            splits[split] = (features, labels.astype(np.int32))
        super().__init__(splits, num_classes=num_classes)


class LabelForEachOutput(DataSource):
    """Gives a multi-output model the one label of `source` once per named output.

    For auxiliary heads that learn the same target as the main one (`config.data.label_outputs`).
    """

    def __init__(self, source: DataSource, outputs):
        self._source, self._outputs = source, tuple(outputs)
        self.num_classes, self.shards_itself = source.num_classes, source.shards_itself
        self.class_names = source.class_names

    def examples(self, split, input_context):
        return self._source.examples(split, input_context).map(
            lambda x, y: (x, {name: y for name in self._outputs})
        )

    def train_features(self):
        return self._source.train_features()

    def streams(self, split):
        return self._source.streams(split)

    def num_examples(self, split):
        return self._source.num_examples(split)

    def sample_labels(self, count):
        labels = self._source.sample_labels(count)
        return {name: labels for name in self._outputs}

    def training_batches(self, split, batch_size, *, seed):
        batches = self._source.training_batches(split, batch_size, seed=seed)
        if batches is None:
            return None
        return batches.map(lambda x, y: (x, {name: y for name in self._outputs}))

    def __getattr__(self, name):  # find_corrupt_file and other source-specific helpers.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._source, name)


def shuffled_batches(arrays, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless training batches of in-memory arrays, with no per-example work: each epoch is a
    seeded permutation of the indices (all of them, whatever shuffle_buffer says), the epochs'
    indices are cut into batches that run across epoch ends, as shuffle-repeat-batch does, and
    each batch is gathered from the arrays at once. The same seed gives every input pipeline
    the same order, as the pipeline's sharding needs."""
    count = len(tf.nest.flatten(arrays)[0])
    tensors = tf.nest.map_structure(tf.convert_to_tensor, arrays)

    def permutation(epoch):
        keys = tf.random.stateless_uniform(
            [count], seed=tf.stack([tf.constant(seed, tf.int64), epoch])
        )
        return tf.argsort(keys)

    # Gathered BLOCK batches at a time, then cut: the per-batch cost of a gather per feature
    # (a CSV has one array per column) is paid once per block.
    indices = tf.data.Dataset.range(2**62).map(permutation)
    blocks = indices.rebatch(batch_size * _BLOCK, drop_remainder=True).map(
        lambda index: tf.nest.map_structure(lambda t: tf.gather(t, index), tensors),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return blocks.rebatch(batch_size, drop_remainder=True)


_BLOCK = 16
