"""A user's `keras.Model` subclasses, outside the package, as tutorials write them: named by import
path (`--config.model.name=tests.support.subclass_models:NAME`) and taking the harness's
`num_classes`, plus `read_train_features` where the model adapts a Normalization layer.

    NoConfig         not registered, no get_config, and an __init__ argument that Keras cannot
                     record (a function): Keras cannot rebuild it from a .keras file at all
    ConfigOnly       not registered, with get_config: its .keras file reloads only when the class
                     is passed as custom_objects
    Registered       registered and with get_config: its .keras file reloads anywhere the module
                     is imported
"""

import numpy as np

from trainer.modeling.keras_api import keras


class NoConfig(keras.Model):
    def __init__(self, num_classes, read_train_features):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.normalize = keras.layers.Normalization()
        features = np.asarray(read_train_features(), dtype=np.float32)
        self.normalize.adapt(features.reshape(len(features), -1))
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")

    def call(self, inputs, training=False):
        return self.out(self.hidden(self.normalize(self.flatten(inputs))))


class ConfigOnly(keras.Model):
    def __init__(self, num_classes, hidden_units=16, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.hidden_units = num_classes, hidden_units
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(hidden_units, activation="relu")
        self.out = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")

    def call(self, inputs, training=False):
        return self.out(self.hidden(self.flatten(inputs)))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "hidden_units": self.hidden_units,
        }


@keras.saving.register_keras_serializable(package="subclass_models")
class Registered(ConfigOnly):
    pass
