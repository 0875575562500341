"""Transfer learning on digits, as in the Keras textbook's Fashion-MNIST example: a model trained
on digits 0-7 is reused, all but its head frozen, for the small task "8 or 9?".

Train the source model, then this one from its export (the new 2-class head does not match the
old 8-class one, so it starts fresh; every other layer starts from the source model):

    python -m trainer.main --config=configs/digits_mlp.py --workdir=/tmp/digits_0to7 \
        --config.data.args.classes='(0,1,2,3,4,5,6,7)'
    python -m trainer.main --config=configs/digits_transfer.py --workdir=/tmp/digits_8or9 \
        --config.model.init_from=/tmp/digits_0to7/export/model.keras
"""

from configs import digits_mlp


def get_config():
    config = digits_mlp.get_config()
    config.data.args.classes = (8, 9)
    config.model.init_from = ""  # Required: the source model's export/model.keras.
    config.model.freeze = ("all_but_head",)
    config.train.steps = 300
    config.eval.every_steps = 100
    config.checkpoint.every_steps = 100
    return config
