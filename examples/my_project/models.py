"""Two convnets for small grayscale images: a functional builder, and a `keras.Model` subclass
that writes its own `train_step` and `test_step`.

The harness calls `convnet(input_shape=..., num_classes=..., **config.model.args)`; it passes
`input_shape` and `num_classes` because the function names them. The subclass is built the same
way (`config.model.name = "examples.my_project.models:CustomStepConvNet"`), with the same
arguments.
"""

import keras
import tensorflow as tf


def convnet(*, input_shape, num_classes, filters=(16, 32), dense_units=64, dropout=0.25):
    """Conv 3x3 + ReLU per entry of `filters` (2x2 max pooling after each but the last),
    global average pooling, a Dense layer with dropout, and a float32 softmax head.

    Args:
      filters: filters of each convolution.
      dense_units: width of the Dense layer before the head.
      dropout: dropout rate before the head.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = _body(filters, dense_units, dropout)(inputs)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="convnet")


def _body(filters, dense_units, dropout) -> keras.Sequential:
    layers = []
    for i, count in enumerate(filters):
        layers.append(keras.layers.Conv2D(count, 3, padding="same", activation="relu"))
        if i < len(filters) - 1:
            layers.append(keras.layers.MaxPooling2D())
    layers += [
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(dense_units, activation="relu"),
        keras.layers.Dropout(dropout),
    ]
    return keras.Sequential(layers, name="body")


@keras.saving.register_keras_serializable(package="my_project")
class CustomStepConvNet(keras.Model):
    """The same convnet with hand-written steps, in the style of Keras's guide "Customizing what
    happens in fit()", made right for several replicas:

    - the gradient comes from `tf.nn.compute_average_loss`, which divides the sum of the
      per-example losses by the GLOBAL batch size, so that summing the replicas' gradients (what
      `optimizer.apply` does under tf.distribute) gives the gradient of the global mean;
    - the reported loss is a `Mean` of the per-example losses, so its value is the mean over all
      examples of all replicas, whatever the split between them.
    """

    def __init__(self, *, num_classes, filters=(16, 32), dense_units=64, dropout=0.25, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.filters = num_classes, tuple(filters)
        self.dense_units, self.dropout = dense_units, dropout
        self.body = _body(self.filters, dense_units, dropout)
        self.head = keras.layers.Dense(num_classes, activation="softmax", dtype="float32")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, images, training=False):
        return self.head(self.body(images, training=training))

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy]  # Reset by the harness before each loop.

    def train_step(self, data):
        images, labels = data[0], data[1]
        with tf.GradientTape() as tape:
            probabilities = self(images, training=True)
            per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
            loss = tf.nn.compute_average_loss(per_example)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._track(labels, probabilities, per_example)

    def test_step(self, data):
        images, labels = data[0], data[1]
        probabilities = self(images, training=False)
        per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        return self._track(labels, probabilities, per_example)

    def _track(self, labels, probabilities, per_example):
        self.loss_tracker.update_state(per_example)
        self.accuracy.update_state(labels, probabilities)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "filters": self.filters,
            "dense_units": self.dense_units,
            "dropout": self.dropout,
        }
