import pytest

from configs import base
from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.models import MODELS, build_model


def test_mlp_is_built_from_its_config_section():
    config = base.get_config()
    config.model.args.hidden_units = (7, 5)
    model = build_model(config.model, input_shape=(8, 8), num_classes=4)
    assert model.output_shape == (None, 4)
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [
        7,
        5,
        4,
    ]


def test_the_head_stays_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model(base.get_config().model, input_shape=(4,), num_classes=3)
        assert model.layers[1].compute_dtype == "bfloat16"
        assert model.output.dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_unknown_model_lists_the_registered_ones():
    config = base.get_config()
    config.model.name = "resnet"
    with pytest.raises(HarnessError, match=f"registered name \\({', '.join(sorted(MODELS))}\\)"):
        build_model(config.model, input_shape=(4,), num_classes=3)


def test_a_field_the_model_does_not_take_is_named():
    config = base.get_config()
    with config.unlocked():
        config.model.args.widths = (3,)
    with pytest.raises(HarnessError, match=r"unknown argument\(s\) \['widths'\]"):
        build_model(config.model, input_shape=(4,), num_classes=3)
