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

import ml_collections

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
