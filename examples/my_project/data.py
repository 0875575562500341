"""The project's data: scikit-learn's 8x8 digits as images, from a plain function.

The harness calls `digit_images(split=..., input_context=..., seed=..., **config.data.args)`
and batches, caches and prefetches what it returns. Because the function takes `input_context`,
it returns only its input pipeline's part of the train split when several pipelines read (one
per worker); for evaluation the harness asks for the whole split, so that it can give every
replica an exact share.
"""

import numpy as np
import tensorflow as tf


def digit_images(
    split: str,
    input_context: tf.distribute.InputContext,
    *,
    seed: int,
    validation_examples: int = 181,
    test_examples: int = 359,
    noise: float = 0.0,
) -> tf.data.Dataset:
    """Unbatched (image (8, 8, 1) float32 in [0, 1], label int32) examples of `split`.

    Args:
      validation_examples: digits held out for validation (the default divides by no batch).
      test_examples: digits held out for test, likewise.
      noise: standard deviation of Gaussian noise added to the train images (0: none).
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(labels))  # Fixed splits, any seed.
    held_out = validation_examples + test_examples
    index = {
        "test": order[:test_examples],
        "validation": order[test_examples:held_out],
        "train": order[held_out:],
    }[split]
    x, y = images[index], labels[index]
    if split == "train" and noise:
        x = x + np.random.default_rng(seed).normal(0, noise, x.shape).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if input_context.num_input_pipelines > 1:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset
