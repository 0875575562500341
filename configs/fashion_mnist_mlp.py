"""Fashion-MNIST classifier: Flatten, Dense 300 relu, Dense 100 relu, Dense 10 softmax.

Inputs standardized per pixel by a Normalization layer adapted on the train split (inside the
model, so the exported model takes raw 0-255 images). Data from tensorflow-datasets; prepare it
once where the internet can be reached:

    python -m trainer.prepare --source=tfds --config.data.tfds.name=fashion_mnist --download

Splits: 54,000 train / 6,000 validation (the last 10% of train) / 10,000 test.
"""

from configs import base


def get_config():
    config = base.get_config(model="mlp", data="tfds")
    config.data.args.name = "fashion_mnist"
    config.model.args.hidden_units = (300, 100)
    config.model.args.normalize = True
    config.train.global_batch_size = 128
    config.train.steps = 8000  # About 19 epochs.
    config.eval.every_steps = 1000
    config.checkpoint.every_steps = 1000
    return config
