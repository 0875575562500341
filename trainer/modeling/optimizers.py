"""The Keras optimizer of config.train, with its schedule, clipping, weight decay and EMA.

Model Garden's `OptimizationConfig` in ml_collections form. The options every Keras optimizer
takes have their own fields (config.train.weight_decay, clipnorm, global_clipnorm, clipvalue,
ema_momentum), so they can be set from the command line whichever optimizer is named; the
named optimizer's own options (momentum, nesterov, beta_1, ...) go in config.train.optimizer_args
and are checked against its signature.
"""

import inspect
import re

from trainer.errors import HarnessError, first_line
from trainer.modeling.fused_adam import FUSED
from trainer.modeling.keras_api import exclude_from_weight_decay, keras
from trainer.modeling.schedules import build_schedule

# Optimizer arguments the harness sets from its own fields.
_OWNED = {
    "learning_rate": "config.train.learning_rate and config.schedule",
    "weight_decay": "config.train.weight_decay",
    "clipnorm": "config.train.clipnorm",
    "global_clipnorm": "config.train.global_clipnorm",
    "clipvalue": "config.train.clipvalue",
    "use_ema": "config.train.ema_momentum",
    "ema_momentum": "config.train.ema_momentum",
    "ema_overwrite_frequency": "config.train.ema_momentum (the harness swaps the average in)",
    "gradient_accumulation_steps": "config.train.accumulation_steps",
    "loss_scale_factor": "config.precision",
}


def build_optimizer(config, *, learning_rate_scale=1.0) -> keras.optimizers.Optimizer:
    """The optimizer config.train names, with every option of config.train and config.schedule."""
    train = config.train
    cls = optimizer_class(train.optimizer, fused=train.fused_optimizer)
    args = train.optimizer_args.to_dict()
    _check_args(cls, args)
    for field in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue"):
        value = train[field]
        if value < 0:
            raise HarnessError(f"config.train.{field}={value} must be 0 (off) or positive.")
        if value > 0:
            args[field] = float(value)
    own_decay = inspect.signature(cls.__init__).parameters.get("weight_decay")
    if train.weight_decay == 0 and own_decay is not None and own_decay.default is not None:
        args["weight_decay"] = 0.0  # Off means off, also for AdamW (its own default is 0.004).
    if sum(train[field] > 0 for field in ("clipnorm", "global_clipnorm", "clipvalue")) > 1:
        raise HarnessError(
            "Set at most one of config.train.clipnorm, global_clipnorm and clipvalue "
            "(Keras takes one)."
        )
    if not 0.0 <= train.ema_momentum < 1.0:
        raise HarnessError(
            f"config.train.ema_momentum={train.ema_momentum} must be in [0, 1) (0: off); "
            "0.99 to 0.9999 are usual."
        )
    if train.ema_momentum > 0:
        args.update(use_ema=True, ema_momentum=float(train.ema_momentum))
    args["learning_rate"] = build_schedule(
        config.schedule,
        peak=train.learning_rate,
        total_steps=train.steps,
        scale=learning_rate_scale,
    )
    try:
        return cls(**args)
    except (TypeError, ValueError) as e:
        raise HarnessError(
            f"config.train.optimizer={train.optimizer!r} with arguments "
            f"{sorted(args)} failed: {first_line(e, 200)}"
        ) from e


def optimizer_class(name: str, *, fused: bool = False) -> type:
    """The Keras optimizer class `name` names; with `fused`, Adam and AdamW are
    trainer.modeling.fused_adam's (the same optimizers, a faster update of large variables)."""
    try:
        cls = type(keras.optimizers.get(name))
    except (ValueError, TypeError) as e:
        raise HarnessError(
            f"config.train.optimizer={name!r} is not a Keras optimizer ({first_line(e, 120)}). "
            "Use a name Keras knows, such as 'adam', 'adamw', 'sgd' or 'rmsprop'."
        ) from e
    return FUSED.get(cls, cls) if fused else cls


def exclude_weight_decay(model: keras.Model, train_config) -> list[str]:
    """Excludes the variables whose path matches a config.train.weight_decay_exclude regex;
    returns their paths. Call after the model and optimizer are built, before training."""
    patterns = list(train_config.weight_decay_exclude)
    if not patterns:
        return []
    if train_config.weight_decay <= 0:
        raise HarnessError(
            "config.train.weight_decay_exclude is set but there is no weight decay: set "
            "config.train.weight_decay."
        )
    try:
        compiled = [re.compile(p) for p in patterns]
    except re.error as e:
        raise HarnessError(f"config.train.weight_decay_exclude: bad regex ({e}).") from e
    excluded = [v for v in model.trainable_variables if any(c.search(v.path) for c in compiled)]
    unmatched = [
        p
        for p, c in zip(patterns, compiled, strict=True)
        if not any(c.search(v.path) for v in model.trainable_variables)
    ]
    if unmatched:
        raise HarnessError(
            f"config.train.weight_decay_exclude {unmatched} match no variable; the model's "
            f"variables are {[v.path for v in model.trainable_variables][:12]}"
            f"{' ...' if len(model.trainable_variables) > 12 else ''}."
        )
    exclude_from_weight_decay(_inner(model.optimizer), excluded)
    return [v.path for v in excluded]


def _inner(optimizer):
    """The optimizer under Keras's LossScaleOptimizer (mixed_float16), or itself."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _check_args(cls: type, args: dict) -> None:
    owned = sorted(set(args) & set(_OWNED))
    if owned:
        raise HarnessError(
            f"config.train.optimizer_args sets {owned}: set "
            f"{'; '.join(_OWNED[name] for name in owned)} instead."
        )
    parameters = inspect.signature(cls.__init__).parameters
    accepted = [
        name
        for name, p in parameters.items()
        if name not in ("self", "name")
        and name not in _OWNED
        and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        raise HarnessError(
            f"config.train.optimizer_args {unknown} are not arguments of {cls.__name__}; "
            f"it takes {accepted}."
        )
