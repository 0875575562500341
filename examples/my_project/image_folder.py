"""The project's convnet on scikit-learn's digits kept as PNG files in class folders, one folder
per digit, as users keep their own images: the harness's image_folder source reads them.

Write the folders once (1,797 8x8 grayscale PNGs), then train:

    python -m examples.my_project.write_images /tmp/digit_images
    python -m trainer.main --config=examples/my_project/image_folder.py \
        --config.data.args.directory=/tmp/digit_images

The folder is split by seeded fractions: 359 test, 180 validation and 1,258 train images (sizes
that divide neither by the batch nor by 2 replicas). Each input pipeline decodes its own files.
"""

from configs import base

SOURCE = "image_folder"


def get_config():
    config = base.get_config(model="examples.my_project.models:convnet", data=SOURCE)
    config.data.args.directory = ""  # Required: the folder write_images.py wrote.
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
