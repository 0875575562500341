"""The one place the harness imports Keras and touches its private API.

Keras 3 (`tf.keras` in TensorFlow 2.21). Keras builds its optimizer slots and compiled loss and
metric state lazily, on the first step; under more than one replica that first step runs inside
the traced host loop, where creating variables fails. `create_all_variables` builds all of it
eagerly, inside the strategy scope. It relies on `Model._symbolic_build`, which is private:
tests/unit/modeling/test_keras_api.py fails loudly if a Keras upgrade changes it.
"""

import keras

__all__ = ["keras", "create_all_variables", "exclude_from_weight_decay", "moving_averages"]


def create_all_variables(model: keras.Model, sample_batch) -> None:
    """Builds the model, its optimizer and compiled loss/metrics from one local batch.

    Call inside `strategy.scope()` after `model.compile(...)` and before any tracing.
    `sample_batch` is a `(features, labels)` or `(features, labels, sample_weights)` tuple.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Compile the model before creating its variables.")
    model._symbolic_build(data_batch=sample_batch)  # Model, compiled loss/metrics, optimizer.
    unbuilt = [
        name
        for name, built in (
            ("model", model.built),
            ("optimizer", model.optimizer.built),
            (
                "compiled metrics",
                getattr(model, "_compile_metrics", None) is None or model._compile_metrics.built,
            ),
        )
        if not built
    ]
    if unbuilt:
        raise RuntimeError(
            f"Keras {keras.__version__} left the {', '.join(unbuilt)} unbuilt after "
            "Model._symbolic_build: update trainer/modeling/keras_api.py for this Keras version."
        )


def exclude_from_weight_decay(optimizer, variables) -> None:
    """Keeps `variables` out of the optimizer's weight decay.

    Keras matches its `var_names` patterns against a variable's short name ('kernel'), so the
    harness passes the variables it matched by path. Keras documents the call as valid before
    the optimizer is built, but its check of that is inert and the exclusion is read at each
    step; the harness calls it after the eager build. tests/unit/modeling/test_keras_api.py checks
    that an excluded variable does not decay.
    """
    optimizer.exclude_from_weight_decay(var_list=list(variables))


def moving_averages(model: keras.Model) -> list | None:
    """The optimizer's exponential moving averages of `model.trainable_variables` (its
    `use_ema`), in the same order; None without EMA. Reads Keras's private
    `_model_variables_moving_average`."""
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    if not getattr(optimizer, "use_ema", False):
        return None
    averages = getattr(optimizer, "_model_variables_moving_average", None)
    if averages is None or len(averages) != len(model.trainable_variables):
        raise RuntimeError(
            f"Keras {keras.__version__} keeps its weight averages elsewhere: update "
            "trainer/modeling/keras_api.py (moving_averages) for this Keras version."
        )
    return list(averages)
