"""Search spaces: what a sweep file writes, checked, then drawn from by an Optuna trial.

A sweep file (configs/sweeps/) maps dotted config fields to distributions made by the helpers
below; `draw(trial, parameters)` turns them into `{field: value}` overrides for one trial:

    parameters = {
        "model.args.hidden_units": layers(depth=int_range(1, 4), width=int_range(1, 99)),
        "train.learning_rate": log_range(1e-4, 1e-2),
        "train.optimizer": choice(
            ["adam", "sgd"], when={"sgd": {"train.optimizer_args.momentum": float_range(0, 0.99)}}
        ),
    }

Distributions are plain dicts (ml_collections holds them, `--sweep.*` overrides reach them). A
field drawn under `when` exists only in the trials that drew its key: conditional structure.
`layers` draws a depth, then one width shared by all layers or one per layer up to the depth.
"""

import json
import math

from trainer.errors import HarnessError

KIND = "distribution"


def choice(values, *, when=None) -> dict:
    """One of `values` (strings, numbers, booleans, tuples). `when` maps a value to the
    parameters drawn only in trials that chose it."""
    return {KIND: "choice", "values": list(values), "when": dict(when or {})}


def int_range(low: int, high: int, *, step: int = 1, log: bool = False) -> dict:
    """An integer in [low, high], both included."""
    return {KIND: "int", "low": low, "high": high, "step": step, "log": log}


def float_range(low: float, high: float, *, step: float = 0.0, log: bool = False) -> dict:
    """A float in [low, high]; `step` > 0 makes it discrete (and usable by the grid sampler)."""
    return {KIND: "float", "low": low, "high": high, "step": step, "log": log}


def log_range(low: float, high: float) -> dict:
    """A float in [low, high] drawn uniformly in log space (learning rates, weight decays)."""
    return float_range(low, high, log=True)


def layers(*, depth: dict, width: dict, per_layer: bool = False) -> dict:
    """A tuple of `depth` widths: one `width` for every layer, or (`per_layer`) one each."""
    return {KIND: "layers", "depth": depth, "width": width, "per_layer": per_layer}


def check(parameters, *, where: str = "parameters") -> dict[str, dict]:
    """The parameters as {field: distribution}, each distribution checked; else HarnessError."""
    parameters = plain(parameters)
    if not isinstance(parameters, dict) or not parameters:
        raise HarnessError(
            f"{where} is empty: map config fields to distributions, e.g. "
            '{"train.learning_rate": log_range(1e-4, 1e-2)} (trainer/sweep/space.py).'
        )
    for field, distribution in parameters.items():
        _check_one(field, distribution, where)
    return parameters


def _check_one(field: str, d, where: str) -> None:
    name = f"{where}[{field!r}]"
    kind = d.get(KIND) if isinstance(d, dict) else None
    if kind == "choice":
        if not d["values"]:
            raise HarnessError(f"{name}: choice() of no values: give at least one.")
        unknown = [key for key in d["when"] if key not in d["values"]]
        if unknown:
            raise HarnessError(f"{name}: `when` keys {unknown} are not among {d['values']}.")
        for value, sub in d["when"].items():
            for sub_field, sub_d in check(sub, where=f"{name} when {value!r}").items():
                _check_one(sub_field, sub_d, where)
    elif kind in ("int", "float"):
        low, high, step = d["low"], d["high"], d["step"]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in (low, high, step)):
            raise HarnessError(f"{name}: low, high and step must be finite numbers; got {d}.")
        if kind == "int" and not all(isinstance(v, int) for v in (low, high, step)):
            raise HarnessError(f"{name}: int_range takes integers; got {low}, {high}, {step}.")
        if low > high:
            raise HarnessError(f"{name}: the range is reversed (low {low} > high {high}).")
        if low == high:
            raise HarnessError(
                f"{name}: the range [{low}, {high}] is empty of choices: widen it, or set the "
                "field in the config (or the sweep's `overrides`) instead."
            )
        if d["log"] and low <= 0:
            raise HarnessError(f"{name}: a log range needs low > 0; got {low}.")
        if step < 0 or (kind == "int" and step < 1):
            raise HarnessError(f"{name}: step {step} must be positive.")
        if d["log"] and step not in (0, 1):
            raise HarnessError(f"{name}: a log range cannot have a step; got {step}.")
    elif kind == "layers":
        for part in ("depth", "width"):
            if not isinstance(d[part], dict) or d[part].get(KIND) != "int":
                raise HarnessError(f"{name}: layers({part}=...) must be an int_range.")
            _check_one(f"{field}.{part}", d[part], where)
        if d["depth"]["low"] < 1:
            raise HarnessError(f"{name}: layers need a depth of at least 1.")
    else:
        raise HarnessError(
            f"{name} = {d!r} is not a distribution: use choice, int_range, float_range, "
            "log_range or layers from trainer.sweep.space."
        )


def draw(trial, parameters: dict[str, dict]) -> dict:
    """{field: value} for one trial, asking `trial` (an optuna Trial) for each parameter."""
    overrides = {}
    for field, d in parameters.items():
        kind = d[KIND]
        if kind == "choice":
            # Optuna stores str, int, float, bool and None; tuples go in as their JSON text.
            by_storable = {storable(hashable(v)): hashable(v) for v in d["values"]}
            value = by_storable[trial.suggest_categorical(field, list(by_storable))]
            overrides[field] = value
            sub = d["when"].get(value) if isinstance(value, str | int | float | bool) else None
            if sub:
                overrides.update(draw(trial, sub))
        elif kind == "int":
            overrides[field] = trial.suggest_int(
                field, d["low"], d["high"], step=d["step"], log=d["log"]
            )
        elif kind == "float":
            overrides[field] = trial.suggest_float(
                field, d["low"], d["high"], step=d["step"] or None, log=d["log"]
            )
        elif kind == "layers":
            depth_name = layer_names(field, d, depth=0)[0]
            depth = _suggest_int(trial, depth_name, d["depth"])
            names = layer_names(field, d, depth=depth)[1:]
            widths = [_suggest_int(trial, name, d["width"]) for name in names]
            overrides[field] = tuple(widths if d["per_layer"] else widths * depth)
    return overrides


def layer_names(field: str, d: dict, *, depth: int) -> list[str]:
    """The parameter names of a `layers` field with `depth` layers: its depth, then its one
    shared width or (per_layer) one width per layer."""
    if not d["per_layer"]:
        return [f"{field}.depth", f"{field}.width"]
    return [f"{field}.depth", *(f"{field}.width_{i}" for i in range(depth))]


def grid(parameters: dict[str, dict], where: str = "the grid sampler") -> dict[str, list]:
    """Every parameter's finite values, as optuna's GridSampler wants them. Conditional fields
    are refused: the grid is a product of all its parameters, so each configuration of an
    unused branch would run again."""
    values = {}
    for field, d in parameters.items():
        kind = d[KIND]
        if kind == "choice":
            if d["when"]:
                raise HarnessError(
                    f"{where} takes no conditional fields ({field!r} has `when`): use the "
                    "random or tpe sampler, or a sweep per branch."
                )
            values[field] = [storable(hashable(v)) for v in d["values"]]
        elif kind == "int":
            values[field] = _int_values(d)
        elif kind == "float":
            if not d["step"] or d["log"]:
                raise HarnessError(
                    f"{where} needs finite values: give {field!r} a float_range(..., step=) "
                    "or a choice(), or use the random or tpe sampler."
                )
            count = math.floor((d["high"] - d["low"]) / d["step"] + 1e-9) + 1  # Within high.
            values[field] = [round(d["low"] + i * d["step"], 12) for i in range(count)]
        elif kind == "layers":
            if d["per_layer"]:
                raise HarnessError(
                    f"{where} takes no conditional fields ({field!r} has per_layer widths): "
                    "use one shared width, or the random or tpe sampler."
                )
            values[f"{field}.depth"] = _int_values(d["depth"])
            values[f"{field}.width"] = _int_values(d["width"])
    return values


def fingerprint(parameters: dict[str, dict]) -> str:
    """A canonical text of the space: studies compare it to refuse a different space."""
    return json.dumps(parameters, sort_keys=True, default=list)


def sample_overrides(parameters: dict[str, dict]) -> list[dict]:
    """Overrides at the ends of every range and at every choice (every conditional branch), to
    check before any trial that each field exists and takes such values."""
    samples = []
    for field, d in parameters.items():
        kind = d[KIND]
        if kind == "choice":
            for value in d["values"]:
                value = hashable(value)
                samples.append({field: value})
                sub = d["when"].get(value) if isinstance(value, str | int | float | bool) else None
                for sub_sample in sample_overrides(sub) if sub else []:
                    samples.append({field: value, **sub_sample})
        elif kind in ("int", "float"):
            samples += [{field: d["low"]}, {field: d["high"]}]
        elif kind == "layers":
            low, high = d["depth"]["low"], d["depth"]["high"]
            samples += [{field: (d["width"]["low"],) * low}, {field: (d["width"]["high"],) * high}]
    return samples


def _int_values(d: dict) -> list[int]:
    return list(range(d["low"], d["high"] + 1, d["step"]))


def _suggest_int(trial, name: str, d: dict) -> int:
    return trial.suggest_int(name, d["low"], d["high"], step=d["step"], log=d["log"])


def hashable(value):
    return tuple(value) if isinstance(value, list) else value


def storable(value):
    return json.dumps(value) if isinstance(value, tuple) else value


def plain(value):
    """ConfigDicts (as ml_collections hands them over) as plain dicts and lists."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value
