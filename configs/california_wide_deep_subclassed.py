"""California Wide & Deep written as a `keras.Model` subclass with `call` (the same network as
california_wide_deep.py). The `.keras` export reloads once `trainer.models` is imported.
"""

from configs import california_wide_deep


def get_config():
    config = california_wide_deep.get_config()
    config.model.name = "wide_deep_subclassed"
    config.model.wide_deep_subclassed.hidden_units = config.model.wide_deep.hidden_units
    return config
