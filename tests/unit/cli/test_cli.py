"""cli's one-line config errors and fail(); formatting.format_metrics; errors.first_line."""

import math

import ml_collections
import numpy as np
import pytest
from absl import flags
from ml_collections import config_flags

from trainer.cli.config_flag import _config_error, fail
from trainer.cli.formatting import format_metrics, format_value
from trainer.errors import PREEMPTED_EXIT_CODE, HarnessError, PeerLost, first_line

pytestmark = pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")

GOOD_CONFIG = """
import ml_collections



def get_config():
    return ml_collections.ConfigDict({"seed": 0, "train": {"steps": 10}})
"""


def _load_error(path) -> Exception:
    """The exception config_flags raises for `path`, loading it as the entry points do."""
    flag_values = flags.FlagValues()
    try:
        config_flags.DEFINE_config_file(
            "config", str(path), flag_values=flag_values, lock_config=True
        )
        flag_values(["prog"])
        flag_values.config.to_dict()
    except Exception as e:  # Whatever config_flags raises is what the entry points see.
        return e
    raise AssertionError(f"{path} loaded without an error")


def _one_line(message: str) -> str:
    assert "\n" not in message, message
    return message


def _locked_config():
    config = ml_collections.ConfigDict({"seed": 0, "train": {"steps": 10}})
    config.lock()
    return config


def test_a_missing_config_file(tmp_path):
    path = tmp_path / "nope.py"
    message = _one_line(_config_error(_load_error(path), str(path)))
    assert message == f"config file {path} does not exist: pass --config=PATH/TO/EXPERIMENT.py."


def test_a_file_without_get_config(tmp_path):
    path = tmp_path / "no_get_config.py"
    path.write_text("CONFIG = {'seed': 0}\n")
    error = _load_error(path)
    assert isinstance(error, AttributeError)
    message = _one_line(_config_error(error, str(path)))
    assert message == (
        f"config file {path} does not define get_config(): add one that returns the config."
    )


def test_a_syntax_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def get_config(:\n    return None\n")
    error = _load_error(path)
    assert isinstance(error, SyntaxError)
    message = _one_line(_config_error(error, str(path)))
    assert message.startswith(f"cannot load config file {path}: ")
    assert "syntax" in message
    assert "broken.py" in message and "line 1" in message


def test_an_error_raised_while_the_file_loads(tmp_path):
    path = tmp_path / "bad_plugin.py"
    path.write_text(GOOD_CONFIG)
    error = HarnessError("Model plug-in 'nope' does not import: pass a module path.")
    message = _one_line(_config_error(error, str(path)))
    assert message == (
        f"cannot load config file {path}: Model plug-in 'nope' does not import: pass a module path."
    )


def test_an_unknown_field(tmp_path):
    path = tmp_path / "good.py"
    path.write_text(GOOD_CONFIG)
    with pytest.raises(AttributeError) as raised:
        _locked_config().train.stepz = 5
    message = _one_line(_config_error(raised.value, str(path)))
    assert message.startswith(f"bad config field in {path}: ")
    assert "stepz" in message
    assert 'Did you mean "steps"' in message
    assert "\\n" not in message  # ml_collections' escaped newline is flattened.
    assert "configs/base.py" in message


def test_a_field_of_the_wrong_type(tmp_path):
    path = tmp_path / "good.py"
    path.write_text(GOOD_CONFIG)
    with pytest.raises(TypeError) as raised:
        _locked_config().train.steps = "many"
    message = _one_line(_config_error(raised.value, str(path)))
    assert message.startswith(f"bad config field in {path}: Could not override field 'steps'")
    assert "configs/base.py" in message


def test_a_missing_key_loses_its_quotes(tmp_path):
    path = tmp_path / "good.py"
    path.write_text(GOOD_CONFIG)
    with pytest.raises(KeyError) as raised:
        _ = _locked_config()["nope"]
    message = _one_line(_config_error(raised.value, str(path)))
    assert message.startswith(f"bad config field in {path}: ")
    assert "nope" in message


def test_fail_prints_one_error_line_and_exits(capsys):
    with pytest.raises(SystemExit) as raised:
        fail("config file x.py does not exist")
    assert raised.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: config file x.py does not exist\n"


def test_fail_with_another_exit_code(capsys):
    with pytest.raises(SystemExit) as raised:
        fail("lost a peer", exit_code=PeerLost.exit_code)
    assert raised.value.code == 43
    assert capsys.readouterr().err.splitlines() == ["error: lost a peer"]


def test_exit_codes():
    assert HarnessError.exit_code == 2
    assert PeerLost.exit_code == 43
    assert PREEMPTED_EXIT_CODE == 42


@pytest.mark.parametrize(
    "value, text",
    [
        (0.0, "0.0000"),
        (0.123456, "0.1235"),
        (-2.5, "-2.5000"),
        (9999.0, "9999.0000"),
        (12345.678, "1.235e+04"),
        (-12345.678, "-1.235e+04"),
        (1e20, "1e+20"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_format_metrics():
    results = {"loss": 0.123456, "accuracy": 0.975, "big": 123456.0, "bad": math.nan}
    assert format_metrics(results) == "loss 0.1235, accuracy 0.9750, big 1.235e+05, bad nan"
    assert format_metrics({"loss": math.inf, "x": 1.0}, separator=" | ") == "loss inf | x 1.0000"
    assert format_metrics({}) == ""


def test_format_metrics_accepts_numpy_scalars():
    assert format_metrics({"loss": np.float32(0.5), "n": np.float64(2e5)}) == "loss 0.5000, n 2e+05"


def test_first_line_keeps_only_the_first_line():
    error = ValueError("  Shapes do not match  \nTraceback detail\nmore detail")
    assert first_line(error) == "Shapes do not match"


def test_first_line_cuts_long_lines():
    assert first_line(RuntimeError("x" * 500)) == "x" * 200
    assert first_line(RuntimeError("abcdef"), limit=3) == "abc"


def test_first_line_of_an_empty_message_is_the_type():
    assert first_line(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert first_line(ValueError("   \n  ")) == "ValueError"


def test_first_line_prefers_tensorflows_message_attribute():
    class OpError(Exception):  # Like tf.errors.OpError: str() adds op context, .message does not.
        def __init__(self):
            super().__init__("op context\nTraceback")
            self.message = "Input is not a directory: /tmp/x\n\t [[node]]"

    assert first_line(OpError()) == "Input is not a directory: /tmp/x"
