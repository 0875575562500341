"""IMDB movie reviews, positive or negative, from raw text: TextVectorization (vocabulary
adapted on the train reviews, inside the model), Embedding, LSTM, softmax over 2 classes.

The exported model takes raw strings. Data from tensorflow-datasets; prepare it once where the
internet can be reached:

    python -m trainer.prepare --source=tfds --config.data.tfds.name=imdb_reviews --download
"""

from configs import base


def get_config():
    config = base.get_config(model="text_lstm", data="tfds")
    config.data.args.name = "imdb_reviews"
    config.data.args.feature_key = "text"
    config.data.args.train_split = "train[:90%]"
    config.data.args.validation_split = "train[90%:]"
    config.train.global_batch_size = 64
    config.train.steps = 3000  # About 8.5 epochs of 22,500 reviews.
    config.eval.every_steps = 500
    config.checkpoint.every_steps = 500
    return config
