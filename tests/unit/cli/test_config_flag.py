"""--config in-process: plug-in switches before the other overrides, their errors as one line,
and plug-in arguments without a default (placeholders the command line or the file sets)."""

import sys

import pytest
from absl import flags

from configs import base
from trainer.cli.config_flag import (
    PLUGIN_FIELDS,
    CommandLineError,
    _overrides,
    _unset_arguments,
    define_config_flag,
    unset_arguments,
)

pytestmark = pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")

HERE = "tests.unit.cli.test_config_flag"
MODEL, DATA = PLUGIN_FIELDS


def needs_units(units: int, *, input_shape, num_classes, depth=1):
    """A model builder whose `units` has no default (named by import path in these tests)."""
    raise AssertionError("the tests only configure it")


def needs_path(path, *, rows=8):
    """A data function whose `path` has no default and no annotation."""
    raise AssertionError("the tests only configure it")


def _load(monkeypatch, *args, switch_plugin=base.switch_plugin):
    """The config that trainer.main's command line `args` gives: --config and its overrides,
    on flags of their own (config_flags reads the overrides from sys.argv)."""
    argv = ["trainer", *args]
    monkeypatch.setattr(sys, "argv", argv)
    flag_values = flags.FlagValues()
    define_config_flag(switch_plugin, flag_values)
    flag_values(argv)
    return flag_values.config


def _experiment(tmp_path, body: str) -> str:
    path = tmp_path / "experiment.py"
    path.write_text(f"from configs import base\n\n\ndef get_config():\n{body}    return config\n")
    return str(path)


def _one_line_exit(capsys, call) -> str:
    with pytest.raises(SystemExit) as raised:
        call()
    assert raised.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_a_data_source_switch_takes_the_new_sources_arguments(monkeypatch):
    config = _load(
        monkeypatch,
        "--config.data.source=csv",
        "--config.data.args.path=my.csv",
        "--config.data.args.label=y",
    )
    assert config.data.source == "csv"
    assert config.data.args.path == "my.csv" and config.data.args.label == "y"
    assert config.data.args.task == "auto"  # The rest: the CSV source's own defaults.
    assert "validation_examples" not in config.data.args  # Nothing left of digits.
    assert config.model.args.hidden_units == (256, 128)  # The model is not touched.
    with pytest.raises(AttributeError):  # The new section is locked like the rest.
        config.data.args.pathh = "x"


def test_a_model_switch_in_the_space_separated_form(monkeypatch):
    args = ("--config.model.name", "deep_selu", "--config.model.args.depth", "3")
    config = _load(monkeypatch, *args)
    assert config.model.name == "deep_selu"
    assert config.model.args.to_dict() == {
        "alpha_dropout": 0.5,
        "batch_norm": True,
        "depth": 3,
        "units": 100,
    }


def test_another_plugin_starts_from_its_defaults(monkeypatch):
    # digits_mlp sets hidden_units=(256, 128) for mlp; wide_deep takes hidden_units too.
    config = _load(monkeypatch, "--config.model.name=wide_deep")
    assert config.model.args.hidden_units == (30, 30)


def test_naming_the_experiments_own_plugin_keeps_its_values(monkeypatch):
    config = _load(monkeypatch, "--config.model.name=mlp", "--config.model.args.dropout=0.1")
    assert config.model.args.hidden_units == (256, 128)  # digits_mlp's, not mlp's (300, 100).
    assert config.model.args.dropout == 0.1


def test_the_last_name_given_wins(monkeypatch):
    config = _load(
        monkeypatch,
        "--config.model.name=vgg",
        "--config.model.name=deep_selu",
        "--config.model.args.units=7",
    )
    assert config.model.name == "deep_selu" and config.model.args.units == 7


def test_a_switch_with_an_explicit_config_file(monkeypatch):
    config = _load(
        monkeypatch,
        "--config=configs/csv_classifier.py",
        "--config.data.source=synthetic",
        "--config.data.args.num_classes=3",
    )
    assert config.data.args.to_dict() == {
        "input_shape": (784,),
        "num_classes": 3,
        "num_examples": 8192,
    }
    assert config.model.args.hidden_units == (64, 32)  # csv_classifier's model stays.


def test_an_argument_of_the_old_plugin_is_one_line_naming_the_new_ones(monkeypatch, capsys):
    line = _one_line_exit(
        capsys,
        lambda: _load(
            monkeypatch, "--config.model.name=deep_selu", "--config.model.args.hidden_units=(8,)"
        ),
    )
    assert line == (
        "error: --config.model.args.hidden_units: model 'deep_selu' (from --config.model.name, "
        "which replaced config.model.args with its own defaults) takes no argument "
        "'hidden_units'; its arguments are alpha_dropout, batch_norm, depth, units: set them "
        "with --config.model.args.ARG=VALUE."
    )


def test_the_same_mistake_with_a_config_file_given(monkeypatch):
    # With --config on the command line the file loads as absl parses: parse_flags prints it.
    with pytest.raises(CommandLineError, match=r"data source 'synthetic' \(from"):
        _load(
            monkeypatch,
            "--config=configs/digits_mlp.py",
            "--config.data.source=synthetic",
            "--config.data.args.split_seed=3",
        )


def test_a_misspelt_argument_suggests_the_right_one(monkeypatch, capsys):
    line = _one_line_exit(
        capsys, lambda: _load(monkeypatch, "--config.model.args.hiden_units=(8,)")
    )
    assert "model 'mlp' takes no argument 'hiden_units' (did you mean 'hidden_units'?)" in line
    assert "its arguments are activation, dropout, hidden_units, normalize" in line


def test_an_unknown_plugin_name_is_one_line(monkeypatch, capsys):
    line = _one_line_exit(capsys, lambda: _load(monkeypatch, "--config.data.source=imagenet"))
    assert line.startswith("error: Unknown config.data.source='imagenet': use a registered name")


def test_a_field_that_does_not_exist_is_still_an_error(monkeypatch, capsys):
    line = _one_line_exit(capsys, lambda: _load(monkeypatch, "--config.train.stepz=5"))
    assert "bad config field" in line and 'Did you mean "steps"' in line


def test_an_override_config_flags_cannot_parse_is_one_line(monkeypatch, capsys):
    # A default of None has no parser in config_flags (the CSV source's `inputs`).
    args = ("--config.data.source=csv", "--config.data.args.inputs={'a': ('a',)}")
    line = _one_line_exit(capsys, lambda: _load(monkeypatch, *args))
    assert "config.data.args.inputs is not supported for overriding" in line


def test_without_a_switch_function_the_name_alone_changes(monkeypatch):
    config = _load(monkeypatch, "--config.model.name=deep_selu", switch_plugin=None)
    assert config.model.name == "deep_selu"
    assert config.model.args.hidden_units == (256, 128)


def test_a_required_argument_is_a_placeholder_the_command_line_sets(monkeypatch):
    config = _load(monkeypatch, f"--config.model.name={HERE}:needs_units")
    assert config.model.args.to_dict() == {"units": None, "depth": 1}
    assert unset_arguments(config, MODEL) == ["units"]
    config = _load(
        monkeypatch, f"--config.model.name={HERE}:needs_units", "--config.model.args.units=64"
    )
    assert config.model.args.units == 64 and unset_arguments(config, MODEL) == []


def test_a_required_argument_the_experiment_file_sets(monkeypatch, tmp_path):
    path = _experiment(
        tmp_path,
        f"    config = base.get_config(model='{HERE}:needs_units', data='{HERE}:needs_path')\n"
        "    config.model.args.units = 32\n",
    )
    config = _load(monkeypatch, f"--config={path}", "--config.data.args.path=rows.csv")
    assert config.model.args.units == 32 and config.data.args.path == "rows.csv"
    assert unset_arguments(config, MODEL) == unset_arguments(config, DATA) == []


def test_an_unset_required_argument_names_both_ways_to_set_it(monkeypatch):
    config = _load(monkeypatch, f"--config.data.source={HERE}:needs_path")
    assert unset_arguments(config, DATA) == ["path"]
    assert _unset_arguments(config, DATA, "configs/digits_mlp.py") == (
        f"data source '{HERE}:needs_path' needs config.data.args.path, which has no value (no "
        "default in its signature): pass --config.data.args.path=VALUE, or set it in the "
        "experiment file configs/digits_mlp.py"
    )
    assert _unset_arguments(config, MODEL, "configs/digits_mlp.py") == ""


def test_a_required_argument_a_sweep_draws_is_not_asked_for(monkeypatch):
    config = _load(monkeypatch, f"--config.data.source={HERE}:needs_path")
    drawn = {"data.args.path", "train.learning_rate"}
    assert _unset_arguments(config, DATA, "x.py", set_elsewhere=drawn) == ""
    assert "data.args.path" in _unset_arguments(config, DATA, "x.py", set_elsewhere={"path"})


def test_a_default_of_none_is_not_an_unset_argument(monkeypatch):
    config = _load(monkeypatch, "--config.data.source=csv")
    assert config.data.args.inputs is None  # The CSV source's default.
    assert unset_arguments(config, DATA) == []


@pytest.mark.parametrize(
    "argv, found",
    [
        (["--config.a.b=1", "-config.c=x=y"], [("a.b", "1"), ("c", "x=y")]),
        (["--config.model.name", "vgg", "--strategy=mirrored"], [("model.name", "vgg")]),
        (["--noconfig.export.keras"], [("export.keras", None)]),  # No value at the end.
        (["--config=configs/x.py", "--configx.a=1", "config.a=1"], []),
        # After a bare --, absl parses nothing: those are a trial's flags (trainer.sweep).
        (["--config.seed=1", "--", "--config.model.name=vgg"], [("seed", "1")]),
    ],
)
def test_overrides_are_found_as_config_flags_finds_them(argv, found):
    assert _overrides(argv) == found
