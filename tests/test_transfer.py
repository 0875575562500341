"""Transfer learning: weights from a .keras file by layer name, frozen layers stay unchanged."""

import numpy as np
import pytest

from tests.helpers import assert_ok, assert_one_line_error, read_results, train
from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras
from trainer.run.transfer import freeze, load_matching_weights, read_pretrained_weights

_QUIET = ("--progress=quiet", "--config.export.saved_model=False")


def test_digits_0_to_7_model_transfers_to_8_or_9_with_only_the_head_trained(tmp_path):
    source_dir, target_dir = str(tmp_path / "zero_to_seven"), str(tmp_path / "eight_or_nine")
    assert_ok(
        train(
            "--config=configs/digits_mlp.py",
            f"--workdir={source_dir}",
            "--config.data.args.classes=(0,1,2,3,4,5,6,7)",
            "--config.train.steps=60",
            *_QUIET,
        )
    )
    source_file = f"{source_dir}/export/model.keras"
    process = train(
        "--config=configs/digits_transfer.py",
        f"--workdir={target_dir}",
        f"--config.model.init_from={source_file}",
        "--config.train.steps=40",
        *_QUIET,
    )
    assert_ok(process)
    assert "Loaded ['hidden_0', 'hidden_1']" in process.stderr
    assert "freshly initialized: ['probs']" in process.stderr
    before = keras.models.load_model(source_file)
    after = keras.models.load_model(read_results(target_dir)["export"]["keras"])
    assert after.get_layer("probs").kernel.shape == (128, 2)  # The new task's head...
    for name in ("hidden_0", "hidden_1"):  # ...on the source model's frozen layers.
        for a, b in zip(
            before.get_layer(name).get_weights(), after.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(a, b)


def test_freezing_needs_init_from(workdir):
    process = train(
        "--config=configs/digits_transfer.py", f"--workdir={workdir}", "--progress=quiet"
    )
    assert_one_line_error(process, "without config.model.init_from")


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
