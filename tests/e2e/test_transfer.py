"""Transfer learning: weights from a .keras file by layer name, frozen layers stay unchanged."""

import numpy as np

from tests.support.helpers import assert_ok, assert_one_line_error, read_results, train
from trainer.modeling.keras_api import keras

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
