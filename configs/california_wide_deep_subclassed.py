"""California Wide & Deep written as a `keras.Model` subclass with `call` (the same network as
california_wide_deep.py). The `.keras` export reloads once `trainer.models` is imported.
"""

from configs import base, california_wide_deep


def get_config():
    config = california_wide_deep.get_config()
    hidden_units = config.model.args.hidden_units
    base.use_model(config, "wide_deep_subclassed", hidden_units=hidden_units)
    return config
