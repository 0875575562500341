"""Transfer learning: weights from a .keras file by layer name, frozen layers stay unchanged."""

import numpy as np
import pytest

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.run.transfer import freeze, load_matching_weights, read_pretrained_weights


def _model():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(hidden))


def test_an_unknown_layer_to_freeze_is_named_with_the_ones_there_are():
    with pytest.raises(HarnessError, match=r"layer\(s\) \['hiden'\].*\['hidden', 'head'\]"):
        freeze(_model(), ("hiden",), pretrained=True)
    model = _model()
    assert freeze(model, ("all_but_head",), pretrained=True) == ["hidden"]
    assert [w.name for w in model.trainable_weights] == ["kernel", "bias"]
    assert not model.get_layer("hidden").trainable


def test_init_from_must_exist_and_share_a_layer(tmp_path):
    with pytest.raises(HarnessError, match="does not exist"):
        read_pretrained_weights(str(tmp_path / "nothing.keras"))
    with pytest.raises(HarnessError, match=r"No layer of other.keras .* matches"):
        load_matching_weights(_model(), {"conv": [np.zeros(3)]}, source="other.keras")


def test_weights_load_by_name_where_shapes_agree(tmp_path):
    path = str(tmp_path / "source.keras")
    _model().save(path)
    saved = keras.models.load_model(path)
    model = _model()
    assert load_matching_weights(model, read_pretrained_weights(path), source=path) == [
        "hidden",
        "head",
    ]
    np.testing.assert_array_equal(model.get_layer("head").kernel, saved.get_layer("head").kernel)
