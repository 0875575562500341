"""IMDB movie reviews from the aclImdb folders as Stanford distributes them (one review per .txt
file, `train/{neg,pos,unsup}` and `test/{neg,pos}`), with the text_lstm of imdb_lstm.py:
TextVectorization adapted on the train reviews inside the model, Embedding, LSTM, softmax.

    python -m trainer.main --config=configs/imdb_text_folder.py \
        --config.data.args.train_dir=/data/aclImdb/train \
        --config.data.args.test_dir=/data/aclImdb/test

`classes` leaves out the unlabelled `unsup` folder; validation is 10% of the train reviews.
"""

from configs import base, imdb_lstm


def get_config():
    config = imdb_lstm.get_config()
    base.use_data(config, "text_folder")
    config.data.args.train_dir = ""  # Required: aclImdb/train.
    config.data.args.test_dir = ""  # Required: aclImdb/test.
    config.data.args.classes = ("neg", "pos")
    config.data.args.validation_fraction = 0.1
    return config
