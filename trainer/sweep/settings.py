"""The sweep file's fields, with their defaults and meaning (the sweep's configs/base.py).

    from trainer.sweep import settings, space

    def get_config():
        config = settings.get_config(
            parameters={"train.learning_rate": space.log_range(1e-4, 1e-2)},
            overrides={"eval.every_steps": 500},
        )
        config.sampler = "tpe"
        return config

`parameters` and `overrides` are given here because their keys are dotted config fields, which
a ConfigDict takes only when built for them. Other fields can be overridden on the command line:
`--sweep.sampler=random`.
"""

import copy
import os

import ml_collections

from trainer.errors import HarnessError
from trainer.sweep import overrides, space

SAMPLERS = ("random", "grid", "tpe")
PRUNERS = ("none", "median", "successive_halving")
DIRECTIONS = ("minimize", "maximize")


def get_config(*, parameters=None, overrides=None) -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.metric = "loss"  # The validation metric to optimize, as results.json names it.
    config.direction = "minimize"  # minimize | maximize.
    config.sampler = "tpe"  # random | grid | tpe (Optuna's samplers).
    config.sampler_args = ml_collections.ConfigDict()  # Its keyword arguments (n_startup_trials).
    config.seed = 0  # Seeds the sampler (plus the process index, so processes draw apart).
    # Pruning on the validation metric at each eval.every_steps: none | median |
    # successive_halving (Optuna's MedianPruner and SuccessiveHalvingPruner).
    config.pruner = "none"
    config.pruner_args = ml_collections.ConfigDict()  # Its keyword arguments (n_warmup_steps).
    # {dotted config field: value} set in every trial, e.g. {"eval.every_steps": 500}.
    config.overrides = ml_collections.ConfigDict(overrides or {}, allow_dotted_keys=True)
    # {dotted config field: distribution} from trainer.sweep.space (choice, int_range, ...).
    config.parameters = ml_collections.ConfigDict(parameters or {}, allow_dotted_keys=True)
    return config


def check(sweep, config, config_path: str, argv) -> tuple[dict, str, dict]:
    """(the parameters, the base config's path, what every trial sets: the command line's
    `--config.*` in `argv` and the sweep's overrides), checked against the base config before
    any trial runs."""
    for field, allowed in (
        ("direction", DIRECTIONS),
        ("sampler", SAMPLERS),
        ("pruner", PRUNERS),
    ):
        if sweep[field] not in allowed:
            raise HarnessError(f"--sweep.{field}={sweep[field]!r}: use one of {allowed}.")
    parameters = space.check(sweep.parameters, where="sweep.parameters")
    command_line = {
        arg[len("--config.") :].split("=", 1)[0] for arg in argv if arg.startswith("--config.")
    }
    fixed = {field: _get(config, field) for field in sorted(command_line)}
    fixed.update(space.plain(sweep.overrides))
    base_config = _portable(config_path)
    overrides.apply(copy.deepcopy(config), fixed, where=f"{config_path} (sweep.overrides)")
    for sample in space.sample_overrides(parameters):
        overrides.apply(copy.deepcopy(config), {**fixed, **sample}, where=config_path)
    checked = copy.deepcopy(config)
    overrides.apply(checked, fixed, where=config_path)
    if sweep.pruner != "none" and checked.eval.every_steps <= 0:
        raise HarnessError(
            f"--sweep.pruner={sweep.pruner} needs validation results during training: set "
            "eval.every_steps > 0 (in the sweep's overrides or with --config.eval.every_steps)."
        )
    if sweep.sampler == "grid":
        space.grid(parameters)
    return parameters, base_config, fixed


def _portable(config_path: str) -> str:
    """The base config's path relative to the repository when it lies inside (so that
    best_config.py runs on another checkout, a container, a pod), else absolute."""
    absolute = os.path.abspath(config_path)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    inside = os.path.commonpath([absolute, repo]) == repo
    return os.path.relpath(absolute, repo) if inside else absolute


def _get(config, field: str):
    value = config
    for part in field.split("."):
        value = value[part]
    return value.to_dict() if hasattr(value, "to_dict") else value
