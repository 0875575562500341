"""The one place the harness imports Keras and touches its private API.

Keras 3 (`tf.keras` in TensorFlow 2.21). Keras builds its optimizer slots and compiled loss and
metric state lazily, on the first step; under more than one replica that first step runs inside
the traced host loop, where creating variables fails. `create_all_variables` builds all of it
eagerly, inside the strategy scope. It relies on `Model._symbolic_build`, which is private:
tests/test_keras_api.py fails loudly if a Keras upgrade changes it.
"""

import keras

__all__ = ["keras", "constant_learning_rate", "create_all_variables"]


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
            "Model._symbolic_build: update trainer/keras_api.py for this Keras version."
        )


def constant_learning_rate(optimizer) -> float | None:
    """The optimizer's learning rate when it is a constant (a variable), None under a schedule.

    Reads Keras's private `_learning_rate`: the public `learning_rate` evaluates a schedule.
    """
    variable = getattr(optimizer, "_learning_rate", None)
    if isinstance(variable, keras.Variable) or hasattr(variable, "assign"):
        return float(variable.numpy())
    return None
