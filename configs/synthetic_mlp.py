"""The Fashion-MNIST MLP shape (784-300-100-10) on synthetic in-memory data, for benchmarks."""

from configs import base


def get_config():
    config = base.get_config(model="mlp", data="synthetic")
    config.data.args.input_shape = (784,)
    config.data.args.num_classes = 10
    config.model.args.hidden_units = (300, 100)
    config.train.global_batch_size = 256
    config.train.steps = 1000
    config.train.steps_per_loop = 50
    config.eval.every_steps = 0
    return config
