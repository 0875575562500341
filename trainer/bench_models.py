"""The three model shapes the benchmark times, written once for both Keras 3 and tf_keras.

Each builder takes the Keras module (`keras` or `tf_keras`), so every contender trains exactly
the same architecture. Shapes follow the Keras material: the Fashion-MNIST MLP, Wide & Deep on
the 8 California-housing features, and a VGG-like CNN on 32x32 colour images.
"""

import numpy as np


def mlp(k):
    inputs = k.Input(shape=(784,))
    x = k.layers.Dense(300, activation="relu")(inputs)
    x = k.layers.Dense(100, activation="relu")(x)
    outputs = k.layers.Dense(10, activation="softmax")(x)
    return k.Model(inputs, outputs)


def wide_deep(k):
    inputs = k.Input(shape=(8,))
    deep = k.layers.Dense(30, activation="relu")(inputs)
    deep = k.layers.Dense(30, activation="relu")(deep)
    merged = k.layers.Concatenate()([inputs, deep])
    outputs = k.layers.Dense(1)(merged)
    return k.Model(inputs, outputs)


def vgg(k):
    inputs = k.Input(shape=(32, 32, 3))
    x = inputs
    for filters in (32, 64):
        x = k.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = k.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = k.layers.MaxPooling2D()(x)
        x = k.layers.Dropout(0.25)(x)
    x = k.layers.Flatten()(x)
    x = k.layers.Dense(256, activation="relu")(x)
    outputs = k.layers.Dense(10, activation="softmax")(x)
    return k.Model(inputs, outputs)


# name: (builder, loss, batch size, features shape, label kind)
SHAPES = {
    "mlp": (mlp, "sparse_categorical_crossentropy", 256, (784,), "class"),
    "wide_deep": (wide_deep, "mse", 256, (8,), "value"),
    "vgg": (vgg, "sparse_categorical_crossentropy", 64, (32, 32, 3), "class"),
}


def synthetic_data(name: str, examples: int, seed: int = 0):
    """Random features and labels of the model's shape (speed does not depend on the values)."""
    _, _, _, shape, label = SHAPES[name]
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((examples, *shape)).astype(np.float32)
    if label == "class":
        labels = rng.integers(0, 10, size=(examples,)).astype(np.int32)
    else:
        labels = rng.standard_normal((examples, 1)).astype(np.float32)
    return features, labels
