"""California Wide & Deep with two inputs and two outputs: "main" on the wide and deep paths
together, and an auxiliary "aux" on the deep path alone, both trained on the house value with
loss weights 1.0 and 0.2 (the auxiliary loss makes the deep path useful on its own).
"""

import ml_collections

from configs import california_wide_deep_two_inputs


def get_config():
    config = california_wide_deep_two_inputs.get_config()
    config.model.args.auxiliary_output = True
    config.data.label_outputs = ("main", "aux")
    config.train.loss_weights = ml_collections.ConfigDict({"main": 1.0, "aux": 0.2})
    return config
