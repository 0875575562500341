"""MLP on scikit-learn's handwritten digits (8x8 images, 10 classes): the embedded default.

No download: the 1,797 digits ship inside scikit-learn. Fixed splits of 1,257 / 180 / 360.
Reaches about 0.97 test accuracy in 2,000 steps of 128 on a CPU.
"""

from configs import base


def get_config():
    config = base.get_config(model="mlp", data="digits")
    config.model.args.hidden_units = (256, 128)
    config.train.global_batch_size = 128
    config.train.steps = 2000
    config.train.learning_rate = 1e-3
    return config
