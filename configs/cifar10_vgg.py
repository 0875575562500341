"""CIFAR-10 with a VGG-like CNN: Conv 32, 32, pool, dropout; Conv 64, 64, pool, dropout;
Dense 256, dropout, softmax. Pixels rescaled to [0, 1] inside the model.

Data from tensorflow-datasets; prepare it once where the internet can be reached:

    python -m trainer.prepare --source=tfds --config.data.tfds.name=cifar10 --download
"""

from configs import base


def get_config():
    config = base.get_config(model="vgg", data="tfds")
    config.data.args.name = "cifar10"
    config.train.global_batch_size = 128
    config.train.steps = 15_000  # About 43 epochs of 45,000 images.
    config.eval.every_steps = 1000
    config.checkpoint.every_steps = 1000
    return config
