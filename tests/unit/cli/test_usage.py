"""What --help and --config_help print: help requests, flag entries, the config field by field."""

import ml_collections
import pytest
from absl import flags
from ml_collections import config_dict

from configs import base
from trainer.cli.usage import config_fields_text, flag_entry, help_requested, help_text


@pytest.mark.parametrize(
    "argv, wanted",
    [
        (["trainer", "--help"], True),
        (["trainer", "-h"], True),
        (["trainer", "-?"], True),
        (["trainer", "--config.train.steps=5", "-helpshort"], True),
        (["trainer", "--help=false"], False),
        (["trainer", "--help", "--nohelp"], False),
        (["trainer", "--helpfull"], False),  # absl's own page.
        (["trainer", "--", "--help"], False),
        (["trainer", "--workdir=/tmp/help"], False),
        (["help"], False),
    ],
)
def test_help_requested(argv, wanted):
    assert help_requested(argv) is wanted


def test_flag_entries_say_how_to_write_each_flag():
    flag_values = flags.FlagValues()
    flags.DEFINE_enum("mode", "a", ["a", "b"], "The mode.", flag_values=flag_values)
    flags.DEFINE_boolean("quick", False, "Go quickly.", flag_values=flag_values)
    flags.DEFINE_integer("count", 3, "How many.", flag_values=flag_values)
    flags.DEFINE_string("where", None, "Where to.", flag_values=flag_values)
    assert flag_entry(flag_values["mode"]) == ("--mode=a|b", "The mode. Default: a.")
    assert flag_entry(flag_values["quick"]) == ("--quick", "Go quickly.")
    assert flag_entry(flag_values["count"], "N") == ("--count=N", "How many. Default: 3.")
    assert flag_entry(flag_values["where"], "DIR") == ("--where=DIR", "Where to.")


def test_help_text_keeps_the_docstring_and_wraps_the_rest():
    doc = "Does a thing.\n\n    cmd --a=1 \\\n        --b=2\n"
    text = help_text(doc, [("--a=N", "word " * 40)], ["names: " + "x, " * 50])
    lines = text.splitlines()
    assert lines[:4] == ["Does a thing.", "", "    cmd --a=1 \\", "        --b=2"]
    assert lines[5:7] == ["flags:", "  --a=N"]
    assert all(len(line) <= 100 for line in lines)
    assert all(line.startswith("      word") for line in lines[7:9])


def test_the_config_field_by_field():
    config = base.get_config()
    config.train.steps = 7
    text = config_fields_text(config, comments=base.field_comments(), defaults=base.get_config())
    lines = text.splitlines()
    assert lines[0] == (
        "seed = 42  # Seeds weights, dropout and shuffling: same seed, same loss curve on CPU."
    )
    assert (
        "train.steps = 7  # Total optimizer steps; a resumed run stops at exactly this. "
        "(default: 2000)"
    ) in lines
    assert "model.args.hidden_units = (300, 100)  # An argument of model 'mlp'" in lines
    assert "train.optimizer_args = {}  # Its other arguments: momentum, ..." in lines
    fields = [line.split(" = ")[0] for line in lines if " = " in line]
    # In configs/base.py's order (a section's fields where its line is), sections apart.
    assert fields.index("model.name") < fields.index("model.args.activation")
    assert fields.index("model.args.normalize") < fields.index("model.init_from")
    assert fields.index("train.profile_steps") < fields.index("schedule.name")
    assert (
        lines[
            lines.index(
                "eval.every_steps = 500  # Evaluate on the validation split this "
                "often (0: at the end)."
            )
            - 1
        ]
        == ""
    )
    # A section's comment block comes once, right before its first field.
    first = next(n for n, line in enumerate(lines) if line.startswith("schedule."))
    assert lines[first - 2].startswith("# The learning rate over the steps")
    assert sum(line.startswith("# The learning rate over") for line in lines) == 1


def test_an_argument_without_a_value_shows_as_required():
    config = ml_collections.ConfigDict(
        {
            "model": {
                "name": "my.models:net",
                "args": {"units": config_dict.placeholder(int), "gate": None},
            }
        }
    )
    text = config_fields_text(config, comments={"model.name": ((), "The model.")})
    assert text.splitlines() == [
        "model.name = 'my.models:net'  # The model.",
        "model.args.gate = None  # An argument of model 'my.models:net'",
        "model.args.units = <required>  # An argument of model 'my.models:net' (required: it has "
        "no default)",
    ]
