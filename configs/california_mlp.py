"""Regression on California housing (the 8 derived features), a 3x64 MLP with Adam.

The data is the 1990 California census table (housing.csv, not part of the package): pass its
path.

    python -m trainer.main --config=configs/california_mlp.py \
        --config.data.args.path=PATH/TO/housing.csv

Target in units of 100,000 dollars; random 75/25 train/test split, a quarter of train held out
for validation; features standardized by a Normalization layer adapted on train; the 207 missing
total_bedrooms imputed with the train median. Plain Keras reaches a test MSE of about 0.29 here.
"""

from configs import base


def get_config():
    config = base.get_config(model="mlp", data="csv")
    config.data.args.path = "../shared/datasets/california_housing/housing.csv"
    config.data.args.label = "median_house_value"
    config.data.args.label_scale = 1e-5
    config.data.args.recipe = "california_housing_8"
    config.data.args.missing = "impute_median"
    config.model.args.hidden_units = (64, 64, 64)
    config.model.args.normalize = True
    config.train.loss = "mse"
    config.train.metrics = ("mae",)
    config.train.global_batch_size = 64
    config.train.steps = 3000
    config.train.learning_rate = 1e-3
    config.eval.every_steps = 1000
    config.checkpoint.every_steps = 1000
    return config
