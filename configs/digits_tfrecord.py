"""The digits MLP trained from TFRecord shards, as `trainer.prepare` writes them.

    python -m trainer.prepare --out=/tmp/digits_tfrecord --num_shards=4
    python -m trainer.main --config=configs/digits_tfrecord.py \
        --config.data.args.dir=/tmp/digits_tfrecord

Same model and schedule as digits_mlp; the input pipelines read the shards by file.
"""

from configs import base, digits_mlp


def get_config():
    config = digits_mlp.get_config()
    base.use_data(config, "tfrecord")
    config.data.args.dir = ""  # Required: the directory `trainer.prepare --out` wrote.
    return config
