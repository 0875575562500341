"""California Wide & Deep with two inputs: "wide" gets the first 5 features, "deep" the last 6
(they share AveRooms, AveBedrms and Population), each standardized by its own Normalization.
"""

import ml_collections

from configs import california_wide_deep

FEATURES = california_wide_deep.FEATURES


def get_config():
    config = california_wide_deep.get_config()
    config.data.args.inputs = ml_collections.ConfigDict(
        {"wide": FEATURES[:5], "deep": FEATURES[2:]}
    )
    return config
