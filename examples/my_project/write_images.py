"""Writes scikit-learn's digits as PNG files in class folders, one folder per digit, as users keep
their own images: the data of the project's image_folder.py experiment, and of the image folder
source's tests.

    python -m examples.my_project.write_images /tmp/digit_images

writes /tmp/digit_images/<digit>/<index>.png, 1,797 8x8 grayscale images.
"""

import sys

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits


def write_digits(root: str, count: int | None = None) -> None:
    """The first `count` digits (all: None) as ROOT/<digit>/<index>.png, pixels 0-16 scaled to
    0-255."""
    digits = load_digits()
    images = np.round(digits.images[:count] * 255 / 16).astype(np.uint8)[..., None]
    for index, (image, label) in enumerate(zip(images, digits.target, strict=False)):
        tf.io.write_file(f"{root}/{label}/{index:04d}.png", tf.io.encode_png(image))


if __name__ == "__main__":
    write_digits(sys.argv[1])
