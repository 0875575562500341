"""California housing with a functional Wide & Deep model: the standardized features go both
straight to the output (wide) and through Dense layers (deep).

The data is the real census file in ../shared/datasets (see california_mlp.py): target in units
of 100,000 dollars, the 8 features of scikit-learn's version, Normalization adapted on train.
"""

from configs import base

CSV = "../shared/datasets/california_housing/housing.csv"
# scikit-learn's feature order; the Keras textbook feeds the first 5 to the wide input and the
# last 6 to the deep one.
FEATURES = (
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
)


def get_config():
    config = base.get_config()
    config.data.source = "csv"
    config.data.csv.path = CSV
    config.data.csv.label = "median_house_value"
    config.data.csv.label_scale = 1e-5
    config.data.csv.recipe = "california_housing_8"
    config.data.csv.missing = "impute_median"
    config.model.name = "wide_deep"
    config.model.wide_deep.hidden_units = (64, 64, 64)
    config.train.loss = "mse"
    config.train.metrics = ("mae",)
    config.train.global_batch_size = 64
    config.train.steps = 3000
    config.train.learning_rate = 1e-3
    config.eval.every_steps = 1000
    config.checkpoint.every_steps = 1000
    return config
