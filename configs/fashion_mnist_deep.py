"""Fashion-MNIST with a deep self-normalizing net: 20 Dense 100 SELU layers (LeCun-normal
init), BatchNormalization after each, AlphaDropout(0.5) before the softmax head.

Inputs standardized inside the model. Data from tensorflow-datasets (see fashion_mnist_mlp.py
for the prepare command).
"""

from configs import base


def get_config():
    config = base.get_config(model="deep_selu", data="tfds")
    config.data.args.name = "fashion_mnist"
    config.model.args.depth = 20
    config.model.args.units = 100
    config.model.args.batch_norm = True
    config.model.args.alpha_dropout = 0.5
    config.train.global_batch_size = 128
    config.train.steps = 8000
    config.eval.every_steps = 1000
    config.checkpoint.every_steps = 1000
    return config
