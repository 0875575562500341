"""Same or different digit? A siamese network: one shared Dense encoder applied to both images of
a pair, the two encodings concatenated, a sigmoid head. Pairs built from scikit-learn's digits
(no download), half same and half different, each split paired within itself.
"""

from configs import base


def get_config():
    config = base.get_config(model="siamese", data="digit_pairs")
    config.train.loss = "binary_crossentropy"
    config.train.metrics = ("accuracy",)
    config.train.global_batch_size = 128
    config.train.steps = 3000
    return config
