"""A trial's config: the base experiment file with {dotted field: value} overrides applied.

Every trial, and the best one, is written as a config file of a few lines that names the base
file and its overrides, so `python -m trainer.main --config=WORKDIR/best_config.py` reruns it.
"""

import importlib.util
import os

from configs import base
from trainer.errors import HarnessError

# Free-form sections: a sweep may add keys to them (the harness checks them against the
# optimizer's or the loss's signature, and actions against theirs, when a trial builds them).
FREE_FORM = ("train.optimizer_args", "train.loss_args", "train.loss_weights", "actions")

TEMPLATE = '''"""{title}

{description}

    python -m trainer.main --config={path} --workdir=/tmp/rerun
"""

from trainer.sweep.overrides import config_with_overrides

BASE_CONFIG = {base!r}
OVERRIDES = {overrides}


def get_config():
    return config_with_overrides(BASE_CONFIG, OVERRIDES)
'''


def load_config_file(path: str):
    """The ConfigDict that `path`'s get_config() returns, as config_flags would load it."""
    if not os.path.isfile(path):
        raise HarnessError(f"config file {path} does not exist: pass the path of an experiment.")
    spec = importlib.util.spec_from_file_location(f"_config_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise HarnessError(f"config file {path} does not define get_config().")
    return module.get_config()


def config_with_overrides(base_path: str, overrides: dict):
    """The base file's config with `overrides` applied (what a generated config file returns)."""
    if not os.path.isabs(base_path) and not os.path.isfile(base_path):
        here = os.path.dirname(os.path.abspath(__file__))
        base_path = os.path.join(here, "..", "..", base_path)  # Relative to the repository.
    config = load_config_file(base_path)
    apply(config, overrides, where=base_path)
    return config


PLUGIN_FIELDS = ("model.name", "data.source")


def apply(config, overrides: dict, *, where: str) -> None:
    """Sets each dotted field; a field the config lacks (outside FREE_FORM) is an error. A
    plug-in named here switches first, with its own arguments, as on trainer.main's command line
    (`--config.model.name=X` then `--config.model.args.units=64`)."""
    for field in PLUGIN_FIELDS:
        if field in overrides:
            base.switch_plugin(config, field, overrides[field])
    for field, value in overrides.items():
        *parents, key = field.split(".")
        section = config
        for i, part in enumerate(parents):
            if part not in section or not hasattr(section[part], "unlocked"):
                _missing(".".join(parents[: i + 1]), field, where)
            section = section[part]
        if key in section:
            current = section[key]
            if isinstance(current, tuple) and isinstance(value, list):
                value = tuple(value)
            try:
                section[key] = value
            except TypeError as e:
                raise HarnessError(
                    f"config field {field} is {type(current).__name__} ({current!r}) in {where}; "
                    f"the sweep sets it to {value!r}: change the search space."
                ) from e
        elif ".".join(parents) in FREE_FORM:
            with section.unlocked():
                section[key] = value
        else:
            _missing(field, field, where)


def _missing(path: str, field: str, where: str):
    raise HarnessError(
        f"config field {field} does not exist in {where} (no {path}): fix the search space. The "
        "harness's fields are in configs/base.py; a plug-in's are under model.args / data.args; "
        f"only {', '.join(FREE_FORM)} take new keys."
    )


def config_file_text(*, base: str, overrides: dict, title: str, description: str, path: str) -> str:
    lines = [f"    {field!r}: {value!r}," for field, value in sorted(overrides.items())]
    overrides_text = "\n".join(["{", *lines, "}"])
    return TEMPLATE.format(
        title=title, description=description, path=path, base=base, overrides=overrides_text
    )
