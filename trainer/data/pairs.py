"""Pairs of handwritten digits labelled same (1) or different (0): data for a siamese model.

Built from scikit-learn's digits (no download) with the digits source's splits, so a test pair
never shows an image seen in training. Each example is paired `pairs_per_example` times, half of
the pairs with an image of the same digit and half with another digit, chosen by a seed.
Features are {"left": (64,), "right": (64,)}; the label is a float32 0/1 of shape (1,).
"""

import numpy as np

from trainer.data.sources import SPLITS, DigitsSource, InMemorySource
from trainer.errors import HarnessError


class DigitPairsSource(InMemorySource):
    def __init__(
        self,
        *,
        validation_examples: int = 180,
        test_examples: int = 360,
        split_seed: int = 0,
        pairs_per_example: int = 4,
    ):
        """Args:
        validation_examples, test_examples, split_seed: the digits' splits, as the digits
          source makes them.
        pairs_per_example: pairs per digit, half with the same digit, half with another.
        """
        if pairs_per_example < 1:
            raise HarnessError(
                f"config.data.args.pairs_per_example={pairs_per_example} must be >= 1."
            )
        digits = DigitsSource(
            validation_examples=validation_examples,
            test_examples=test_examples,
            split_seed=split_seed,
        )
        rng = np.random.default_rng(split_seed)
        splits = {
            split: make_pairs(*digits.splits[split], pairs_per_example, rng) for split in SPLITS
        }
        super().__init__(splits, num_classes=None)


def make_pairs(features: np.ndarray, labels: np.ndarray, pairs_per_example: int, rng):
    """Pairs every example with random partners, alternately of its own class and of another."""
    left, right, same = [], [], []
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    for repeat in range(pairs_per_example):
        for i, label in enumerate(labels):
            want_same = (i + repeat) % 2 == 0 or len(by_class) == 1
            if want_same:
                candidates = by_class[label]
            else:
                candidates = np.flatnonzero(labels != label)
            left.append(i)
            right.append(rng.choice(candidates))
            same.append(want_same)
    pair_labels = np.asarray(same, dtype=np.float32)[:, None]
    return {"left": features[left], "right": features[right]}, pair_labels
