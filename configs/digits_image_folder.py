"""The project's convnet (examples/my_project) on scikit-learn's digits kept as PNG files in class
folders, one folder per digit, as users keep their own images.

Write the folders once (1,797 8x8 grayscale PNGs), then train:

    python -m configs.digits_image_folder /tmp/digit_images
    python -m trainer.main --config=configs/digits_image_folder.py \
        --config.data.args.directory=/tmp/digit_images

The folder is split by seeded fractions: 359 test, 180 validation and 1,258 train images (sizes
that divide neither by the batch nor by 2 replicas). Each input pipeline decodes its own files.
"""

import sys

import numpy as np

from configs import base

SOURCE = "image_folder"


def get_config():
    config = base.get_config(model="examples.my_project.models:convnet", data=SOURCE)
    config.data.args.directory = ""  # Required: the folder `python -m configs...` wrote.
    config.data.args.image_size = (8, 8)
    config.data.args.channels = 1
    config.data.args.validation_fraction = 0.1
    config.data.args.test_fraction = 0.2
    config.model.args.filters = (16, 32)
    config.train.global_batch_size = 64
    config.train.steps = 1000
    config.train.steps_per_loop = 50
    config.train.learning_rate = 3e-3
    config.eval.every_steps = 200
    config.eval.global_batch_size = 64
    config.checkpoint.every_steps = 200
    return config


def write_digits(root: str, count: int | None = None) -> None:
    """The first `count` digits (all: None) as ROOT/<digit>/<index>.png, pixels 0-16 scaled to
    0-255."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images[:count] * 255 / 16).astype(np.uint8)[..., None]
    for index, (image, label) in enumerate(zip(images, digits.target, strict=False)):
        tf.io.write_file(f"{root}/{label}/{index:04d}.png", tf.io.encode_png(image))


if __name__ == "__main__":
    write_digits(sys.argv[1])
