import numpy as np

from trainer.data.pairs import DigitPairsSource, make_pairs
from trainer.data.sources import DigitsSource


def test_pairs_are_half_same_labelled_right_and_stay_in_their_split():
    pairs = DigitPairsSource(
        validation_examples=180, test_examples=360, split_seed=0, pairs_per_example=4
    )
    digits = DigitsSource(validation_examples=180, test_examples=360, split_seed=0)
    for split in ("train", "validation", "test"):
        images, labels = digits.splits[split]
        features, same = pairs.splits[split]
        assert len(same) == 4 * len(labels) and same.shape[1:] == (1,)
        assert abs(same.mean() - 0.5) < 0.01
        # Every image of a pair comes from this split; same == (the two digits are equal).
        index = {image.tobytes(): label for image, label in zip(images, labels, strict=True)}
        left = np.array([index[image.tobytes()] for image in features["left"]])
        right = np.array([index[image.tobytes()] for image in features["right"]])
        np.testing.assert_array_equal(same[:, 0] == 1, left == right)


def test_pairing_is_fixed_by_the_seed():
    features = np.arange(20, dtype=np.float32)[:, None]
    labels = np.arange(20) % 4
    a = make_pairs(features, labels, 2, np.random.default_rng(3))
    b = make_pairs(features, labels, 2, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0]["right"], b[0]["right"])
