"""What a sweep leaves in its workdir, read from the study (so any process can write it anew):

    trials.csv        one row per trial: number, state, validation and test metric, steps,
                      seconds, each parameter, and why it was pruned or failed
    sweep.png         the metric against the trial, and against the most important parameters
    best_config.py    the best trial as a config file: python -m trainer.main --config=...
    hparams/          TensorBoard HParams: one run per finished trial, side by side

`table` prints the same rows for the terminal.
"""

import csv
import io
import math

import matplotlib
from absl import logging

matplotlib.use("Agg")  # No display needed.

import matplotlib.pyplot as plt  # noqa: E402
import optuna  # noqa: E402
import tensorflow as tf  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from trainer.sweep import overrides as trial_configs  # noqa: E402
from trainer.sweep import space  # noqa: E402
from trainer.sweep.study import FAIL_REASON, OVER_BUDGET, RESUMES  # noqa: E402
from trainer.workdir.directory import join  # noqa: E402

CSV_FILE, PICTURE_FILE, BEST_CONFIG_FILE, HPARAMS_DIR = (
    "trials.csv",
    "sweep.png",
    "best_config.py",
    "hparams",
)
# Trial attributes the sweep process sets when a trial ends.
TEST_VALUE, STEP, NOTE, OVERRIDES, BASE_CONFIG = "test", "step", "note", "overrides", "base_config"
_SHOWN_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)


def rows(study: optuna.Study, metric: str) -> list[dict]:
    trials = _shown(study)
    names = sorted({name for t in trials for name in t.params})
    table = []
    for t in trials:
        seconds = (
            (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None
        )
        note = t.user_attrs.get(FAIL_REASON) or t.user_attrs.get(NOTE) or ""
        if t.user_attrs.get(RESUMES) is not None:
            note = f"resumes trial {t.user_attrs[RESUMES]}; {note}".rstrip("; ")
        table.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                f"validation_{metric}": _value(t),
                f"test_{metric}": t.user_attrs.get(TEST_VALUE),
                "step": t.user_attrs.get(STEP),
                "seconds": round(seconds, 1) if seconds is not None else None,
                **{name: t.params.get(name) for name in names},
                "note": note,
            }
        )
    return table


def table(rows_: list[dict]) -> str:
    """The rows as aligned text columns."""
    if not rows_:
        return "(no trials yet)"
    columns = list(rows_[0])
    cells = [[_cell(row[c]) for c in columns] for row in rows_]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def summary(study: optuna.Study, metric: str) -> str:
    """One line: the best trial, its test result, the trials by state, the wall time."""
    trials = _shown(study)
    counts = {state: sum(t.state == state for t in trials) for state in _SHOWN_STATES}
    states = ", ".join(f"{n} {state.name.lower()}" for state, n in counts.items() if n)
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    wall = (
        f"; {(max(ends) - min(starts)).total_seconds():.0f} s from the first trial's start "
        "to the last one's end"
        if starts and ends
        else ""
    )
    best = _best(study)
    if best is None:
        return f"No complete trial yet ({states or 'no trials'}){wall}."
    test = best.user_attrs.get(TEST_VALUE)
    tested = f", test {metric} {test:.4f}" if test is not None else ""
    return (
        f"Best: trial {best.number}, validation {metric} {best.value:.4f}{tested}. "
        f"Trials: {states}{wall}."
    )


def write_text(path: str, text: str) -> str:
    tf.io.gfile.makedirs(path.rsplit("/", 1)[0])
    with tf.io.gfile.GFile(path, "w") as f:
        f.write(text)
    return path


def write_csv(rows_: list[dict], path: str) -> str:
    text = io.StringIO()
    if rows_:
        writer = csv.DictWriter(text, fieldnames=list(rows_[0]))
        writer.writeheader()
        writer.writerows(rows_)
    return write_text(path, text.getvalue())


def write_best_config(study: optuna.Study, *, path: str, metric: str, sweep_path: str) -> str:
    """best_config.py for the best complete trial; None while no trial has completed."""
    best = _best(study)
    if best is None:
        return None
    test = best.user_attrs.get(TEST_VALUE)
    description = (
        f"{best.user_attrs[BASE_CONFIG]} with the overrides below. Validation {metric} "
        f"{best.value:.6g}" + (f", test {metric} {test:.6g}" if test is not None else "") + "."
    )
    text = trial_configs.config_file_text(
        base=best.user_attrs[BASE_CONFIG],
        overrides=best.user_attrs[OVERRIDES],
        title=f"Trial {best.number}, the best of study {study.study_name!r} ({sweep_path}).",
        description=description,
        path=path,
    )
    return write_text(path, text)


def draw(study: optuna.Study, *, path: str, metric: str, parameters: dict) -> str | None:
    """sweep.png: the metric per trial (best so far as a line), and against the two most
    important parameters (Optuna's fANOVA importances once two trials completed)."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    pruned = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state == TrialState.PRUNED and t.value is not None
    ]
    if not complete and not pruned:
        return None
    names = _important(study, complete)
    figure, axes = plt.subplots(1, 1 + len(names), figsize=(5 * (1 + len(names)), 4))
    axes = list(axes) if len(names) else [axes]
    axes[0].scatter([t.number for t in complete], [t.value for t in complete], label="complete")
    if pruned:
        axes[0].scatter(
            [t.number for t in pruned],
            [t.value for t in pruned],
            marker="x",
            label="pruned (at its last evaluation)",
        )
    best, best_line = None, []
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    for t in sorted(complete, key=lambda t: t.number):
        if best is None or (t.value > best if maximize else t.value < best):
            best = t.value
        best_line.append((t.number, best))
    if best_line:
        axes[0].step(*zip(*best_line, strict=True), where="post", color="k", label="best so far")
    axes[0].set(xlabel="trial", ylabel=f"validation {metric}", title=study.study_name)
    axes[0].legend()
    for axis, name in zip(axes[1:], names, strict=True):
        points = [(t.params[name], t.value) for t in complete if name in t.params]
        axis.scatter(*zip(*points, strict=True))
        axis.set(xlabel=name, ylabel=f"validation {metric}")
        if _is_log(parameters, name):
            axis.set_xscale("log")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    tf.io.gfile.makedirs(path.rsplit("/", 1)[0])
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(buffer.getvalue())
    return path


def write_hparams_config(directory: str, *, parameters: dict, metric: str) -> None:
    """The HParams dashboard's columns: every parameter with its domain, and the metrics."""
    from tensorboard.plugins.hparams import api as hp

    if tf.io.gfile.glob(f"{directory}/events.out.tfevents.*"):
        return  # Written by the first process of this study.
    hparams = [hp.HParam(name, domain) for name, domain in _domains(parameters).items()]
    metrics = [hp.Metric(f"validation/{metric}"), hp.Metric(f"test/{metric}")]
    try:
        with tf.summary.create_file_writer(directory).as_default():
            hp.hparams_config(hparams=hparams, metrics=metrics)
    except (TypeError, ValueError, tf.errors.OpError) as e:
        logging.warning("Could not write the HParams columns: %s", e)


def write_hparams_trial(directory: str, trial, *, metric: str, test) -> None:
    """One finished trial's parameters and results as an HParams run under `directory`."""
    from tensorboard.plugins.hparams import api as hp

    try:
        with tf.summary.create_file_writer(directory).as_default():
            hp.hparams({k: _hparam_value(v) for k, v in trial.params.items()}, str(trial.number))
            for name, result in ((f"validation/{metric}", _value(trial)), (f"test/{metric}", test)):
                if result is not None and math.isfinite(result):
                    tf.summary.scalar(name, result, step=1)
    except (TypeError, ValueError, tf.errors.OpError) as e:  # A picture of it is not worth a trial.
        logging.warning("Could not write the HParams of trial %d: %s", trial.number, e)


def _domains(parameters: dict) -> dict:
    from tensorboard.plugins.hparams import api as hp

    domains = {}
    for field, d in parameters.items():
        kind = d[space.KIND]
        if kind == "choice":
            values = [_hparam_value(space.storable(space.hashable(v))) for v in d["values"]]
            if len({type(v) for v in values}) > 1:  # HParams wants one type: text for all.
                values = [str(v) for v in values]
            domains[field] = hp.Discrete(values)
            for sub in d["when"].values():
                domains.update(_domains(sub))
        elif kind == "int":
            domains[field] = hp.IntInterval(d["low"], d["high"])
        elif kind == "float":
            domains[field] = hp.RealInterval(float(d["low"]), float(d["high"]))
        elif kind == "layers":
            depth, *widths = space.layer_names(field, d, depth=d["depth"]["high"])
            domains[depth] = hp.IntInterval(d["depth"]["low"], d["depth"]["high"])
            for name in widths:
                domains[name] = hp.IntInterval(d["width"]["low"], d["width"]["high"])
    return domains


def _hparam_value(value):
    return value if isinstance(value, str | bool | int | float) else str(value)


def _important(study, complete) -> list[str]:
    if len(complete) < 2:
        return []
    try:
        importances = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
        )
    except (RuntimeError, ValueError):  # E.g. no parameter shared by every completed trial.
        return []
    return [name for name in importances if isinstance(complete[0].params.get(name), int | float)][
        :2
    ]


def _is_log(parameters: dict, name: str) -> bool:
    d = parameters.get(name)
    return bool(d and d[space.KIND] in ("int", "float") and d["log"])


def _shown(study) -> list:
    """The trials a table shows: all but those withdrawn over budget (never run)."""
    return [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state in _SHOWN_STATES and not t.user_attrs.get(OVER_BUDGET)
    ]


def _best(study):
    try:
        return study.best_trial
    except ValueError:  # No complete trial yet.
        return None


def _value(t):
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return t.value if t.value is not None else t.intermediate_values.get(t.last_step)
    return None


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def report(study, *, metric: str, parameters: dict, workdir: str, sweep_path: str) -> None:
    """Prints the table and the summary; writes trials.csv, sweep.png, best_config.py."""
    shown = rows(study, metric)
    print(table(shown), flush=True)
    print(summary(study, metric), flush=True)
    written = [
        write_csv(shown, join(workdir, CSV_FILE)),
        draw(study, path=join(workdir, PICTURE_FILE), metric=metric, parameters=parameters),
        write_best_config(
            study, path=join(workdir, BEST_CONFIG_FILE), metric=metric, sweep_path=sweep_path
        ),
    ]
    print("Written: " + ", ".join(path for path in written if path), flush=True)
