"""Text classifier on raw strings: TextVectorization inside the model, Embedding, LSTM, head.

The vocabulary is adapted on the train split and saved with the model, so the exported model
takes raw strings: nothing to tokenize at serving time.
"""

import numpy as np

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.models.layers import head, single_input_shape
from trainer.models.registry import register


@register("text_lstm")
def text_lstm(
    *,
    input_shape,
    num_classes,
    max_tokens=10_000,
    sequence_length=200,
    embedding_dim=64,
    lstm_units=64,
    read_train_features=None,
):
    """One string per example in, class probabilities out.

    Args:
      max_tokens: vocabulary size (the most frequent words of the train texts, with padding and
        OOV).
      sequence_length: tokens kept per text (padded or cut).
      embedding_dim: size of each token's embedding.
      lstm_units: LSTM state size.
    """
    shape = single_input_shape(input_shape, "text_lstm")
    if shape != ():
        raise HarnessError(
            f"Model 'text_lstm' takes one string per example, but the data's feature has shape "
            f"{shape}: point config.data.args.feature_key at a text feature."
        )
    if read_train_features is None:
        raise HarnessError("Model 'text_lstm' adapts its vocabulary on the train split's texts.")
    vectorize = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_sequence_length=sequence_length, name="vectorize"
    )
    vectorize.adapt(np.asarray(read_train_features()))
    inputs = keras.Input(shape=(), dtype="string", name="text")
    x = vectorize(inputs)
    x = keras.layers.Embedding(max_tokens, embedding_dim, mask_zero=True, name="embedding")(x)
    x = keras.layers.LSTM(lstm_units, name="lstm")(x)
    return keras.Model(inputs, head(x, num_classes), name="text_lstm")
