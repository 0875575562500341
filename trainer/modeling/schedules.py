"""Learning-rate schedules in steps, from config.schedule: Keras's decays after a linear warmup.

Model Garden's `LrConfig` + `WarmupConfig` in ml_collections form. The rate at optimizer step s is

    scale * (warmup(s)                    if s < warmup_steps
             decay(s - warmup_steps)      otherwise; piecewise: piecewise(s))

where the peak is config.train.learning_rate and `scale` is a variable that reduce-on-plateau and
divergence recovery lower. Piecewise boundaries are absolute steps, as in Keras's
PiecewiseConstantDecay: with boundaries (b,) the rate at step b is still the first multiplier's,
from step b + 1 the second's. The optimizer evaluates the schedule at its own step counter, which a
checkpoint restores, so a resumed run follows the same rates as one never stopped.

What a resume keeps: the config decides the schedule (its kind, fields and peak), the checkpoint
decides the step and the scale. A run resumed with a new peak or kind continues from the
restored step on the new schedule; the scale the actions lowered stays lowered.
"""

import tensorflow as tf

from trainer.errors import HarnessError
from trainer.modeling.keras_api import keras

_schedules = keras.optimizers.schedules

# The fields of config.schedule each kind reads; a field set for a kind that ignores it is an
# error (it would silently do nothing).
FIELDS = {
    "constant": (),
    "cosine": ("decay_steps", "end_fraction"),
    "linear": ("decay_steps", "end_fraction"),
    "polynomial": ("decay_steps", "end_fraction", "power"),
    "exponential": ("decay_steps", "decay_rate", "staircase"),
    "piecewise": ("boundaries", "multipliers"),
}
_COMMON = ("name", "warmup_steps", "warmup_start")
DEFAULTS = {
    "decay_steps": 0,
    "end_fraction": 0.0,
    "power": 1.0,
    "decay_rate": 0.5,
    "staircase": False,
    "boundaries": (),
    "multipliers": (),
}


@keras.saving.register_keras_serializable(package="trainer")
class WarmupThenDecay(_schedules.LearningRateSchedule):
    """`decay` after `warmup_steps` of a linear rise from `warmup_start` x peak to the peak,
    times `scale` (a variable, or a float when reloaded from a saved model)."""

    def __init__(
        self,
        *,
        peak: float,
        decay,
        warmup_steps: int = 0,
        warmup_start: float = 0.0,
        decay_from_zero: bool = True,
        scale=1.0,
    ):
        self.peak = float(peak)
        self.decay = decay
        self.warmup_steps = int(warmup_steps)
        self.warmup_start = float(warmup_start)
        self.decay_from_zero = bool(decay_from_zero)
        self.scale = scale

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        decay_step = tf.maximum(step - self.warmup_steps, 0.0) if self.decay_from_zero else step
        rate = tf.cast(self.decay(decay_step), tf.float32)
        if self.warmup_steps > 0:
            fraction = step / self.warmup_steps
            start = self.warmup_start * self.peak
            warm = start + (self.peak - start) * fraction
            rate = tf.where(step < self.warmup_steps, warm, rate)
        return rate * tf.cast(self.scale, tf.float32)

    def get_config(self):
        scale = self.scale
        if hasattr(scale, "numpy"):
            scale = float(scale.numpy())
        return {
            "peak": self.peak,
            "decay": keras.saving.serialize_keras_object(self.decay),
            "warmup_steps": self.warmup_steps,
            "warmup_start": self.warmup_start,
            "decay_from_zero": self.decay_from_zero,
            "scale": scale,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["decay"] = keras.saving.deserialize_keras_object(config["decay"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="trainer")
class Constant(_schedules.LearningRateSchedule):
    def __init__(self, rate: float):
        self.rate = float(rate)

    def __call__(self, step):
        del step
        return tf.constant(self.rate, tf.float32)

    def get_config(self):
        return {"rate": self.rate}


def check_schedule(schedule_config, *, total_steps: int) -> None:
    """Raises HarnessError for an unknown kind, a field the kind ignores, or a bad value."""
    settings = schedule_config.to_dict() if hasattr(schedule_config, "to_dict") else schedule_config
    _check_fields(settings)
    _check_warmup(settings, total_steps)
    _check_decay(settings, total_steps)
    if settings["name"] == "piecewise":
        _check_piecewise(settings, total_steps)


def _check_fields(settings: dict) -> None:
    """A known kind, and no field set that the kind ignores."""
    name = settings["name"]
    if name not in FIELDS:
        raise HarnessError(
            f"config.schedule.name={name!r} is not a schedule: use one of {', '.join(FIELDS)}."
        )
    for field, value in settings.items():
        if field in _COMMON or field in FIELDS[name]:
            continue
        if field not in DEFAULTS:
            raise HarnessError(f"config.schedule.{field} is not a schedule field.")
        if _differs(value, DEFAULTS[field]):
            users = [kind for kind, fields in FIELDS.items() if field in fields]
            raise HarnessError(
                f"config.schedule.{field}={value!r} is for {' and '.join(users)} schedules; "
                f"the schedule is {name!r}. Remove it or change config.schedule.name."
            )


def _check_warmup(settings: dict, total_steps: int) -> None:
    warmup = settings["warmup_steps"]
    if warmup < 0 or warmup >= total_steps and warmup > 0:
        raise HarnessError(
            f"config.schedule.warmup_steps={warmup} must be 0 or less than "
            f"config.train.steps={total_steps}: the warmup would take the whole run."
        )
    if not warmup and settings["warmup_start"] != 0.0:
        raise HarnessError(
            f"config.schedule.warmup_start={settings['warmup_start']} does nothing without a "
            "warmup: set config.schedule.warmup_steps too, or remove it."
        )
    if not 0.0 <= settings["warmup_start"] <= 1.0:
        raise HarnessError(
            f"config.schedule.warmup_start={settings['warmup_start']} is a fraction of the peak "
            "learning rate: use a value in [0, 1]."
        )


def _check_decay(settings: dict, total_steps: int) -> None:
    """The fields of the decays after the warmup (all but constant and piecewise)."""
    name = settings["name"]
    if name in ("cosine", "linear", "polynomial", "exponential"):
        decay_steps = settings["decay_steps"] or total_steps - settings["warmup_steps"]
        if settings["decay_steps"] < 0 or decay_steps < 1:
            raise HarnessError(
                f"config.schedule.decay_steps={settings['decay_steps']} must be 0 (to the last "
                "step) or positive."
            )
    if name in ("cosine", "linear", "polynomial") and not 0.0 <= settings["end_fraction"] <= 1.0:
        raise HarnessError(
            f"config.schedule.end_fraction={settings['end_fraction']} must be in [0, 1]."
        )
    if name == "polynomial" and settings["power"] <= 0:
        raise HarnessError(f"config.schedule.power={settings['power']} must be positive.")
    if name == "exponential" and not 0.0 < settings["decay_rate"]:
        raise HarnessError(
            f"config.schedule.decay_rate={settings['decay_rate']} must be positive (below 1 to "
            "decay)."
        )


def _check_piecewise(settings: dict, total_steps: int) -> None:
    boundaries, multipliers = list(settings["boundaries"]), list(settings["multipliers"])
    if any(m < 0 for m in multipliers):
        raise HarnessError(
            f"config.schedule.multipliers={tuple(multipliers)} must not be negative."
        )
    late = [b for b in boundaries if b >= total_steps]
    if late:
        raise HarnessError(
            f"config.schedule.boundaries {late} are not before the last step "
            f"(config.train.steps={total_steps}): the run never reaches them."
        )
    if len(multipliers) != len(boundaries) + 1:
        raise HarnessError(
            f"config.schedule.multipliers has {len(multipliers)} values for "
            f"{len(boundaries)} boundaries: give len(boundaries) + 1 of them."
        )
    if boundaries != sorted(set(boundaries)) or any(b <= 0 for b in boundaries):
        raise HarnessError(
            f"config.schedule.boundaries={tuple(boundaries)} must be increasing positive steps."
        )


def build_schedule(schedule_config, *, peak: float, total_steps: int, scale=1.0) -> WarmupThenDecay:
    """The configured schedule, checked (see check_schedule)."""
    check_schedule(schedule_config, total_steps=total_steps)
    s = schedule_config
    warmup = s.warmup_steps
    decay_steps = s.decay_steps or max(total_steps - warmup, 1)
    end = peak * s.end_fraction
    decay = {
        "constant": lambda: Constant(peak),
        "cosine": lambda: _schedules.CosineDecay(peak, decay_steps, alpha=s.end_fraction),
        "linear": lambda: _schedules.PolynomialDecay(peak, decay_steps, end, power=1.0),
        "polynomial": lambda: _schedules.PolynomialDecay(peak, decay_steps, end, power=s.power),
        "exponential": lambda: _schedules.ExponentialDecay(
            peak, decay_steps, s.decay_rate, staircase=s.staircase
        ),
        "piecewise": lambda: _schedules.PiecewiseConstantDecay(
            [int(b) for b in s.boundaries], [peak * float(m) for m in s.multipliers]
        ),
    }[s.name]()
    return WarmupThenDecay(
        peak=peak,
        decay=decay,
        warmup_steps=warmup,
        warmup_start=s.warmup_start,
        decay_from_zero=s.name != "piecewise",
        scale=scale,
    )


def _differs(value, default) -> bool:
    if isinstance(default, tuple):
        return tuple(value) != default
    return value != default
