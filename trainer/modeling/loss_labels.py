"""What a Keras loss name expects of the labels, for the checks before training and for data
sources that choose between classes and a regression target (standard library only)."""

# Keras's loss names, by the labels they take.
SPARSE = ("sparse_categorical_crossentropy", "sparse_categorical_focal_crossentropy")
CATEGORICAL = (
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
)
BINARY = ("binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge")
REGRESSION = (
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "huber",
    "log_cosh",
    "logcosh",
    "cosine_similarity",
    "poisson",
)


def loss_kind(name) -> str | None:
    """sparse | categorical | binary | regression for a Keras loss name; None for another
    loss (an object, a user's import path): the harness then assumes nothing about it."""
    if not isinstance(name, str):
        return None
    name = _plain(name)  # "SparseCategoricalCrossentropy" names the same loss.
    for kind, names in (
        ("sparse", SPARSE),
        ("categorical", CATEGORICAL),
        ("binary", BINARY),
        ("regression", REGRESSION),
    ):
        if name in {_plain(known) for known in names}:
            return kind
    return None


def _plain(name: str) -> str:
    return name.replace("_", "").lower()


def is_classification(name) -> bool:
    return loss_kind(name) in ("sparse", "categorical", "binary")
