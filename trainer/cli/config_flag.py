"""The --config flag shared by the entry points, with one-line errors for every config mistake.

config_flags reports a bad config file or override as a traceback, at different moments (when
the flag is defined, when flags are parsed, or lazily when the config is first read). These
helpers turn each into one `error: ...` line and exit code 2.
"""

import os

from absl import flags
from ml_collections import config_flags

import configs
from trainer.cli.console import fail
from trainer.errors import HarnessError

# A plug-in named in the config that does not import raises HarnessError while the file loads.
_BAD_CONFIG = (AttributeError, KeyError, OSError, TypeError, ValueError, SyntaxError, HarnessError)


def define_config_flag() -> None:
    """--config, default configs/digits_mlp.py; overrides as --config.train.steps=500."""
    try:  # config_flags loads the default file and applies overrides as it defines the flag.
        config_flags.DEFINE_config_file(
            "config",
            configs.DEFAULT_CONFIG,
            "Experiment config file (a Python file with get_config()); override fields with "
            "--config.train.steps=500 and the like.",
            lock_config=True,
        )
    except _BAD_CONFIG as e:
        fail(_config_error(e, configs.DEFAULT_CONFIG))


def parse_flags(argv):
    """An absl `flags_parser`: every flag or config mistake is one line."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        text = str(e)
        if "Error whilst parsing config file" in text:  # get_config() itself raised.
            lines = [line for line in text.splitlines() if line.strip()]
            fail(
                f"cannot load config file {text.split()[1].split('=', 1)[-1].rstrip(':')}: "
                f"{lines[-1].strip()}"
            )
        fail(text)
    except _BAD_CONFIG as e:
        path = next(
            (a.split("=", 1)[1] for a in argv if a.startswith("--config=")), configs.DEFAULT_CONFIG
        )
        fail(_config_error(e, path))


def load_config():
    """(config, path of its file), loaded now so that a bad file fails here."""
    path = flags.FLAGS["config"].config_filename
    try:
        config = flags.FLAGS.config
        config.to_dict()  # config_flags loads lazily: load now, inside this try.
        return config, path
    except _BAD_CONFIG as e:
        fail(_config_error(e, path))


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
