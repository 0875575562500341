"""The --config flag shared by the entry points, with one-line errors for every config mistake.

config_flags reports a bad config file or override as a traceback, at different moments (when
the flag is defined, when flags are parsed, or lazily when the config is first read). These
helpers turn each into one `error: ...` line and exit code 2.

The command line may also switch plug-ins: `--config.model.name=NAME` and
`--config.data.source=NAME` apply as soon as the config file has loaded, before config_flags
reads the type of every other overridden field from the config, so that the new plug-in's
arguments (`--config.data.args.path=...`) are fields to override.
"""

import difflib
import os
import re
import sys
from collections.abc import Callable
from typing import NamedTuple

import ml_collections
from absl import flags
from ml_collections import config_flags

import configs
from trainer.cli.console import fail
from trainer.errors import HarnessError, first_line

# A plug-in named in the config that does not import raises HarnessError while the file loads.
_BAD_CONFIG = (AttributeError, KeyError, OSError, TypeError, ValueError, SyntaxError, HarnessError)


class PluginField(NamedTuple):
    """A config field that names a plug-in, and the section of that plug-in's arguments."""

    name: str  # "model.name"
    args: str  # "model.args"
    kind: str  # "model", in messages


PLUGIN_FIELDS = (
    PluginField("model.name", "model.args", "model"),
    PluginField("data.source", "data.args", "data source"),
)

# `switch_plugin(config, field, name)`: the config's plug-in for `field` (a PluginField's name)
# becomes `name`, its arguments' section rebuilt (configs/base.py's switch_plugin).
PluginSwitch = Callable[[ml_collections.ConfigDict, str, str], None]

# An override as config_flags finds one in argv: -config.FIELD or --config.FIELD (a boolean's
# --noconfig.FIELD too), its value after `=` or in the next argument.
_OVERRIDE = re.compile(r"^--?(?:no)?config\.([^=]*)(=.*)?$", re.DOTALL)

CONFIG_FLAG_HELP = (
    (
        "--config=FILE",
        "The experiment: a Python file whose get_config() returns the config (configs/*.py).",
    ),
    (
        "--config.FIELD=VALUE",
        "Override one field of the config: --config.train.steps=500, "
        "--config.model.args.hidden_units='(64, 32)'. A field that does not exist is an error.",
    ),
    (
        "--config.model.name=NAME",
        "Another model: a registered name (below) or 'package.module:callable'. Applied before "
        "the other overrides: config.model.args becomes the new model's own defaults, so "
        "--config.model.args.ARG=VALUE sets its arguments (one it does not take is an error). "
        "The experiment file's values stay only when NAME is the model the file names.",
    ),
    (
        "--config.data.source=NAME",
        "Another data source, the same way: config.data.args becomes its own defaults, then "
        "--config.data.args.ARG=VALUE applies (e.g. --config.data.source=csv "
        "--config.data.args.path=my.csv --config.data.args.label=y).",
    ),
)


class CommandLineError(HarnessError):
    """A mistake in the command line's overrides, reported as is (not as the file's)."""


def define_config_flag(
    switch_plugin: PluginSwitch | None = None, flag_values: flags.FlagValues = flags.FLAGS
) -> None:
    """--config, default configs/digits_mlp.py; overrides as --config.train.steps=500.

    With `switch_plugin`, --config.model.name and --config.data.source switch plug-ins before
    the other overrides apply (see the module's docstring); without it they only set the name.
    """
    try:
        # Defined without a default, so that nothing loads before the parser below is in place.
        config_flags.DEFINE_config_file(
            "config",
            None,
            "Experiment config file (a Python file with get_config()); override fields with "
            "--config.train.steps=500 and the like.",
            flag_values=flag_values,
            lock_config=True,
        )
        flag = flag_values["config"]
        flag.parser = _PluginsFirstParser(flag.parser, switch_plugin)
        # config_flags loads the default file now, and applies the overrides, unless argv names
        # another file (that one loads as the flags are parsed).
        flag_values.set_default("config", configs.DEFAULT_CONFIG)
    except CommandLineError as e:
        fail(str(e))
    except flags.Error as e:  # An override config_flags cannot parse (a field of type None).
        fail(_flag_error(e))
    except _BAD_CONFIG as e:
        fail(_config_error(e, configs.DEFAULT_CONFIG))


class _PluginsFirstParser(flags.ArgumentParser):
    """config_flags' file parser, then the command line's plug-in switches and a check of the
    plug-in arguments it overrides: both before config_flags reads the overridden fields' types
    from the config it returns."""

    def __init__(self, load_file: flags.ArgumentParser, switch_plugin: PluginSwitch | None):
        self._load_file = load_file
        self._switch_plugin = switch_plugin

    def parse(self, argument):
        config = self._load_file.parse(argument)
        if isinstance(config, ml_collections.ConfigDict):  # Else a file that failed to load.
            # The argv config_flags reads the overrides from (it expands --flagfile too).
            overrides = _overrides(flags.FLAGS.read_flags_from_files(sys.argv, force_gnu=False))
            switched = _switch_plugins(config, overrides, self._switch_plugin)
            _check_plugin_arguments(config, overrides, switched)
        return config

    def flag_type(self):
        return self._load_file.flag_type()


def _overrides(argv) -> list[tuple[str, str | None]]:
    """(field, value) of every --config.FIELD override in argv, in order; the value is the next
    argument when not given with `=` (None at the end). Up to a bare `--`, where absl stops
    parsing: what follows is for another program (trainer.sweep's trials, for instance)."""
    found = []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    for index, arg in enumerate(argv):
        match = _OVERRIDE.match(arg)
        if match:
            following = argv[index + 1] if index + 1 < len(argv) else None
            found.append((match[1], match[2][1:] if match[2] is not None else following))
    return found


def _switch_plugins(config, overrides, switch_plugin) -> set[str]:
    """Applies the last --config.model.name / --config.data.source; returns the fields whose
    plug-in changed."""
    chosen = {field: value for field, value in overrides if value is not None}
    switched = set()
    for plugin in PLUGIN_FIELDS:
        name, before = chosen.get(plugin.name), _value(config, plugin.name)
        if switch_plugin is None or name is None or before is None:
            continue
        try:
            switch_plugin(config, plugin.name, name)
        except HarnessError as e:
            raise CommandLineError(str(e)) from e
        except Exception as e:  # The user's module failed as it loaded: one line still.
            raise CommandLineError(
                f"--config.{plugin.name}={name}: loading it raised {type(e).__name__}: "
                f"{first_line(e)}"
            ) from e
        if name != before:
            switched.add(plugin.name)
    return switched


def _check_plugin_arguments(config, overrides, switched: set[str]) -> None:
    """Each --config.model.args.ARG / --config.data.args.ARG names an argument of the plug-in
    the config now holds (config_flags would only say the field does not exist)."""
    for field, _ in overrides:
        for plugin in PLUGIN_FIELDS:
            arguments = _value(config, plugin.args)
            if not field.startswith(plugin.args + ".") or not isinstance(
                arguments, ml_collections.ConfigDict
            ):
                continue
            argument = field[len(plugin.args) + 1 :].split(".")[0]
            if argument not in arguments:
                raise CommandLineError(
                    _not_an_argument(config, plugin, argument, plugin.name in switched)
                )


def _not_an_argument(config, plugin: PluginField, argument: str, switched: bool) -> str:
    name = _value(config, plugin.name)
    names = sorted(_value(config, plugin.args))
    close = difflib.get_close_matches(argument, names, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    takes = f"its arguments are {', '.join(names)}" if names else "it takes no arguments"
    origin = (
        f" (from --config.{plugin.name}, which replaced config.{plugin.args} with its own defaults)"
        if switched
        else ""
    )
    return (
        f"--config.{plugin.args}.{argument}: {plugin.kind} {name!r}{origin} takes no argument "
        f"{argument!r}{guess}; {takes}: set them with --config.{plugin.args}.ARG=VALUE."
    )


def _value(config, field: str):
    """config's value at the dotted `field`, or None where the config has no such field."""
    value = config
    for key in field.split("."):
        if not isinstance(value, ml_collections.ConfigDict) or key not in value:
            return None
        value = value[key]
    return value


def parse_flags(argv):
    """An absl `flags_parser`: every flag or config mistake is one line."""
    try:
        return flags.FLAGS(argv)
    except CommandLineError as e:
        fail(str(e))
    except flags.Error as e:
        fail(_flag_error(e))
    except _BAD_CONFIG as e:
        path = next(
            (a.split("=", 1)[1] for a in argv if a.startswith("--config=")), configs.DEFAULT_CONFIG
        )
        fail(_config_error(e, path))


def _flag_error(error: flags.Error) -> str:
    text = str(error)
    if "Error whilst parsing config file" in text:  # get_config() itself raised.
        lines = [line for line in text.splitlines() if line.strip()]
        path = text.split()[1].split("=", 1)[-1].rstrip(":")
        return f"cannot load config file {path}: {lines[-1].strip()}"
    return " ".join(text.split())


def load_config(*, require_plugin_arguments: bool = True):
    """(config, path of its file), loaded now so that a bad file fails here. A plug-in argument
    without a default that nothing set fails here too, unless `require_plugin_arguments` is
    False (to show the config as it is)."""
    path = flags.FLAGS["config"].config_filename
    try:
        config = flags.FLAGS.config
        config.to_dict()  # config_flags loads lazily: load now, inside this try.
    except _BAD_CONFIG as e:
        fail(_config_error(e, path))
    if require_plugin_arguments:
        check_plugin_arguments(config, path)
    return config, path


def check_plugin_arguments(config, path: str, set_elsewhere=frozenset()) -> None:
    """Fails in one line if a plug-in argument without a default has no value, unless its field
    (`model.args.units`) is in `set_elsewhere`: a sweep's search space sets it in every trial."""
    problems = [_unset_arguments(config, plugin, path, set_elsewhere) for plugin in PLUGIN_FIELDS]
    if any(problems):
        fail("; ".join(problem for problem in problems if problem) + ".")


def unset_arguments(config, plugin: PluginField) -> list[str]:
    """The plug-in's arguments without a default that nothing set."""
    arguments = _value(config, plugin.args)
    if arguments is None:
        return []
    return [name for name in sorted(arguments) if has_no_value(arguments, name)]


def has_no_value(section: ml_collections.ConfigDict, key: str) -> bool:
    """Whether section[key] is a placeholder without a value (configs/base.py puts one for each
    plug-in argument without a default), told from a None value by its type."""
    return section[key] is None and section.get_type(key) is not type(None)


def _unset_arguments(config, plugin: PluginField, path: str, set_elsewhere=frozenset()) -> str:
    """The one-line error for the plug-in's unset arguments, or ''."""
    unset = [
        name
        for name in unset_arguments(config, plugin)
        if f"{plugin.args}.{name}" not in set_elsewhere
    ]
    if not unset:
        return ""
    fields = [f"config.{plugin.args}.{name}" for name in unset]
    flags_to_pass = " ".join(f"--{field}=VALUE" for field in fields)
    have = "has" if len(unset) == 1 else "have"
    return (
        f"{plugin.kind} {_value(config, plugin.name)!r} needs {', '.join(fields)}, which {have} "
        f"no value (no default in its signature): pass {flags_to_pass}, or set "
        f"{'it' if len(unset) == 1 else 'them'} in the experiment file {path}"
    )


def _config_error(error: Exception, path: str) -> str:
    text = " ".join(str(error).replace("\\n", " ").replace("\\'", "'").split())
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":  # A KeyError's repr.
        text = text[1:-1]
    if "get_config" in text:
        return f"config file {path} does not define get_config(): add one that returns the config."
    if not os.path.isfile(path):
        return f"config file {path} does not exist: pass --config=PATH/TO/EXPERIMENT.py."
    if isinstance(error, OSError | SyntaxError | HarnessError):
        return f"cannot load config file {path}: {text}"
    return (
        f"bad config field in {path}: {text}. The harness's fields are in configs/base.py; a "
        "plug-in's arguments are the fields of config.model.args / config.data.args, filled "
        "from its signature by base.get_config(model=..., data=...); config.train.optimizer_args "
        "and loss_args hold what the experiment file set with base.use_optimizer / use_loss."
    )
