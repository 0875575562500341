"""The model shapes the benchmark times, written once for both Keras 3 and tf_keras.

Each builder takes the Keras module (`keras` or `tf_keras`), so every contender trains exactly
the same architecture. The small shapes follow the Keras material: the Fashion-MNIST MLP, Wide &
Deep on the 8 California-housing features, and a VGG-like CNN on 32x32 colour images. The
realistic ones are what users train: ResNet-50 on 224x224 images (1000 classes) and a Transformer
encoder shaped like BERT-base. Both have a reduced form (`shape(name, reduced=True)`) that trains
on a small CPU in minutes: ResNet-50 on 64x64 images, and the encoder shaped like BERT-Mini (4
layers, width 256, 4 heads, FFN 1024) on sequences of 64 tokens.
"""

import dataclasses
import functools
from collections.abc import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Shape:
    """A workload: the model, its loss and batch, and the synthetic data it trains on."""

    builder: Callable  # The Keras module -> an uncompiled model.
    loss: str
    batch_size: int
    features: tuple[int, ...]  # One example's features.
    labels: str  # "class" (sparse class ids) or "value" (one float).
    classes: int = 10
    vocabulary: int = 0  # Features are int32 token ids below this when set, else float32.

    @property
    def feature_dtype(self) -> str:
        return "int32" if self.vocabulary else "float32"


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


def resnet50(k, *, image_size: int = 224, classes: int = 1000):
    """`k.applications.ResNet50(weights=None)`, with its softmax in float32 (the Keras mixed
    precision guide's advice, so that a float16 policy keeps the probabilities in range)."""
    base = k.applications.ResNet50(
        weights=None,
        input_shape=(image_size, image_size, 3),
        classes=classes,
        classifier_activation=None,
    )
    outputs = k.layers.Activation("softmax", dtype="float32")(base.output)
    return k.Model(base.input, outputs, name="resnet50")


def bert_encoder(
    k,
    *,
    layers: int = 12,
    width: int = 768,
    heads: int = 12,
    ffn: int = 3072,
    sequence: int = 128,
    vocabulary: int = 30522,
    classes: int = 2,
    dropout: float = 0.1,
):
    """A post-LayerNorm Transformer encoder as in BERT: token embeddings plus learned positions,
    `layers` blocks of self-attention and a GELU feed-forward network, then BERT's pooler (a tanh
    Dense on the first token) and a classifier. The defaults are BERT-base (110M weights)."""
    tokens = k.Input(shape=(sequence,), dtype="int32")
    x = k.layers.Embedding(vocabulary, width)(tokens)
    x = _learned_positions(k)(name="positions")(x)
    x = k.layers.Dropout(dropout)(k.layers.LayerNormalization(epsilon=1e-12)(x))
    for _ in range(layers):
        attention = k.layers.MultiHeadAttention(heads, width // heads, dropout=dropout)(x, x)
        attention = k.layers.Dropout(dropout)(attention)
        x = k.layers.LayerNormalization(epsilon=1e-12)(k.layers.Add()([x, attention]))
        hidden = k.layers.Dense(ffn, activation="gelu")(x)
        hidden = k.layers.Dropout(dropout)(k.layers.Dense(width)(hidden))
        x = k.layers.LayerNormalization(epsilon=1e-12)(k.layers.Add()([x, hidden]))
    pooled = k.layers.Dense(width, activation="tanh")(x[:, 0])
    logits = k.layers.Dense(classes)(pooled)
    outputs = k.layers.Activation("softmax", dtype="float32")(logits)
    return k.Model(tokens, outputs, name="bert_encoder")


@functools.cache
def _learned_positions(k):
    """A layer class of module `k` that adds a learned vector per position (BERT's position
    embeddings); neither Keras has one built in."""

    class LearnedPositions(k.layers.Layer):
        def build(self, input_shape):
            self.table = self.add_weight(
                name="table",
                shape=tuple(input_shape[1:]),
                initializer=k.initializers.TruncatedNormal(stddev=0.02),
            )
            super().build(input_shape)

        def call(self, inputs):
            return inputs + self.table  # The variable is cast to the compute dtype.

    return LearnedPositions


SHAPES = {
    "mlp": Shape(mlp, "sparse_categorical_crossentropy", 256, (784,), "class"),
    "wide_deep": Shape(wide_deep, "mse", 256, (8,), "value"),
    "vgg": Shape(vgg, "sparse_categorical_crossentropy", 64, (32, 32, 3), "class"),
    "resnet50": Shape(
        resnet50, "sparse_categorical_crossentropy", 128, (224, 224, 3), "class", classes=1000
    ),
    "bert_encoder": Shape(
        bert_encoder,
        "sparse_categorical_crossentropy",
        64,
        (128,),
        "class",
        classes=2,
        vocabulary=30522,
    ),
}

# The realistic shapes at a size a 2-core CPU trains in minutes; the others have no reduced form.
REDUCED = {
    "resnet50": dataclasses.replace(
        SHAPES["resnet50"],
        builder=functools.partial(resnet50, image_size=64),
        batch_size=32,
        features=(64, 64, 3),
    ),
    "bert_encoder": dataclasses.replace(
        SHAPES["bert_encoder"],
        builder=functools.partial(
            bert_encoder, layers=4, width=256, heads=4, ffn=1024, sequence=64
        ),
        batch_size=32,
        features=(64,),
    ),
}


def shape(name: str, *, reduced: bool = False) -> Shape:
    """The named workload, in its reduced form if asked and it has one."""
    if name not in SHAPES:
        raise ValueError(f"Unknown model {name!r}: choose from {sorted(SHAPES)}.")
    return REDUCED.get(name, SHAPES[name]) if reduced else SHAPES[name]


def synthetic_data(workload: Shape, examples: int, seed: int = 0):
    """Random features and labels of the workload's shape (speed does not depend on the values):
    token ids below the vocabulary, else standard normal floats."""
    rng = np.random.default_rng(seed)
    if workload.vocabulary:
        size = (examples, *workload.features)
        features = rng.integers(0, workload.vocabulary, size=size).astype(np.int32)
    else:
        features = rng.standard_normal((examples, *workload.features)).astype(np.float32)
    if workload.labels == "class":
        labels = rng.integers(0, workload.classes, size=(examples,)).astype(np.int32)
    else:
        labels = rng.standard_normal((examples, 1)).astype(np.float32)
    return features, labels
