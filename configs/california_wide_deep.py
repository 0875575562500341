"""California housing with a functional Wide & Deep model: the standardized features go both
straight to the output (wide) and through Dense layers (deep).

Data, loss, batch and schedule as in california_mlp.py: the census table housing.csv (downloaded
once and cached, or --config.data.args.path=PATH/TO/housing.csv), target in units of 100,000
dollars, the 8 features of scikit-learn's version, Normalization adapted on train inside the
model.
"""

from configs import base, california_mlp

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
    config = california_mlp.get_config()  # The same data, loss, batch and schedule.
    base.use_model(config, "wide_deep", hidden_units=(64, 64, 64))
    return config
