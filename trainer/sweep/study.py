"""The Optuna study that sweep processes share: storage, sampler, pruner and trial bookkeeping.

Storage is a journal file in the workdir by default (embedded: nothing to start; processes on
one host share it through a file lock), or any URL Optuna takes (sqlite:///, postgresql://,
mysql://) for processes on many machines. Each sweep process asks the study for trials until
`--trials` of them have run or are running; Optuna hands each trial to one process only.

A trial that stops without a result is never lost: one interrupted by the sweep's own SIGTERM
or Ctrl-C, or one whose sweep process died (its heartbeat went stale), is marked failed with the
reason and queued again with the same parameters and trial directory, so the next trial resumes
its training from the checkpoint there. Such interrupted trials do not count against the budget.
"""

import json
import os
import random
import time

import optuna
from optuna.trial import TrialState

from trainer import registry
from trainer.errors import HarnessError, StorageUnavailable, first_line
from trainer.sweep import space

JOURNAL_FILE = "study.journal"
SWEEP_ATTR = "sweep"  # Study attribute: what the study searches, to refuse a different sweep.
HEARTBEAT, HEARTBEAT_S = "heartbeat", "heartbeat_s"  # Trial attributes of the running process.
INTERRUPTED, RESUMES, TRIAL_DIR = "interrupted", "resumes", "trial_dir"
OVER_BUDGET = "over_budget"  # A trial asked for after another process spent the budget.
FAIL_REASON = "fail_reason"
# The storage URL: trainer.sweep's --storage default, and how a trial's action gets it.
STORAGE_VARIABLE = "TRAINER_SWEEP_STORAGE"


def storage_url(storage: str, workdir: str) -> str:
    """The URL given, or the embedded journal file in the workdir."""
    if storage:
        return storage
    if "://" in workdir:
        raise HarnessError(
            f"--workdir={workdir} is remote, and an embedded study store must be a local file: "
            "pass --storage=postgresql://USER:PASSWORD@HOST/DB (or mysql://, sqlite:///PATH)."
        )
    return os.path.join(workdir, JOURNAL_FILE)


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """A journal file for a path, Optuna's RDBStorage for a URL; one error line if neither opens."""
    try:
        if "://" not in url:
            os.makedirs(os.path.dirname(os.path.abspath(url)), exist_ok=True)
            backend = optuna.storages.journal.JournalFileBackend(url)
            return optuna.storages.JournalStorage(backend)
        return _rdb_storage(url)
    except Exception as e:  # noqa: BLE001 - OSError, SQLAlchemy's errors, a missing driver.
        error = StorageUnavailable if _unreachable(url, e) else HarnessError
        advice = "Check the URL, the server and the credentials."
        if isinstance(e, ImportError):
            advice = (
                "Install the database's driver: PostgreSQL's comes with the harness (psycopg); "
                "for MySQL, pip install pymysql and use mysql+pymysql://."
            )
        raise error(
            f"cannot open the study storage {redacted(url)}: {type(e).__name__}: "
            f"{first_line(e).rstrip('.')}. {advice}"
        ) from e


# A database server that does not answer (yet): refused, timed out, a DNS blip, starting up.
_UNREACHABLE = (
    "connection refused",
    "timeout",
    "timed out",
    "could not translate host name",
    "name or service not known",
    "temporary failure in name resolution",
    "can't connect",
    "the database system is starting up",
    "server closed the connection",
)


def _unreachable(url: str, error: Exception) -> bool:
    text = str(error).lower()
    server = url.startswith(("postgresql", "mysql"))
    return server and any(sign in text for sign in _UNREACHABLE)


def _rdb_storage(url: str, attempts: int = 6) -> optuna.storages.RDBStorage:
    """Optuna's RDBStorage. Processes that start together on a new database race to create
    its tables, and all but one fail (a duplicate key or table): those try again."""
    import sqlalchemy.exc

    if url.startswith("postgresql://"):  # psycopg 3, the driver the harness installs, on
        url = "postgresql+psycopg://" + url[len("postgresql://") :]  # any SQLAlchemy 2.
    engine_kwargs = {}
    if url.startswith(("postgresql", "mysql")):  # A host that does not answer: fail in 10 s.
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 + random.random())


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler without the `study.stop()` after the last point, which raises
    outside `study.optimize`: the sweep stops itself once the grid `is_exhausted`."""

    def after_trial(self, study, trial, state, values) -> None:
        pass


def make_sampler(sweep, parameters: dict, seed: int) -> optuna.samplers.BaseSampler:
    args = dict(sweep.sampler_args)
    if sweep.sampler == "random":
        return _build(optuna.samplers.RandomSampler, {"seed": seed, **args}, "sampler_args")
    if sweep.sampler == "tpe":
        # With several processes, a running trial counts as a poor result, so that processes
        # do not all draw next to the same good trial.
        defaults = {"seed": seed, "constant_liar": True}
        return _build(optuna.samplers.TPESampler, {**defaults, **args}, "sampler_args")
    if sweep.sampler == "grid":
        grid = space.grid(parameters)
        return _build(GridSampler, {"search_space": grid, "seed": seed, **args}, "sampler_args")
    raise HarnessError(f"--sweep.sampler={sweep.sampler!r}: use random, grid or tpe.")


def make_pruner(name: str, args: dict) -> optuna.pruners.BasePruner:
    classes = {
        "none": optuna.pruners.NopPruner,
        "median": optuna.pruners.MedianPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    }
    if name not in classes:
        raise HarnessError(f"--sweep.pruner={name!r}: use none, median or successive_halving.")
    return _build(classes[name], dict(args), "pruner_args")


def _build(cls, args: dict, field: str):
    return registry.call_with_args(cls, args, provided={}, field=f"sweep.{field}")


def describe(sweep, parameters: dict, base_config: str, fixed: dict) -> dict:
    """What makes two sweeps the same study: the space, the metric and its direction, the
    base experiment and what every trial sets (results of other settings do not compare)."""
    return {
        "space": space.fingerprint(parameters),
        "metric": sweep.metric,
        "direction": sweep.direction,
        "base_config": base_config,
        "fixed": json.dumps(fixed, sort_keys=True, default=list),
    }


def open_study(*, storage, name: str, sweep, description: dict, sampler, pruner) -> optuna.Study:
    """Creates the study, or loads it after checking it searches what this sweep searches."""
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            sampler=sampler,
            pruner=pruner,
            direction=sweep.direction,
            load_if_exists=True,
        )
    except ValueError as e:  # A study of that name with another direction.
        raise HarnessError(f"study {name!r}: {first_line(e)} Pass --study=A_NEW_NAME.") from e
    stored = study.user_attrs.get(SWEEP_ATTR)
    if stored is None:
        study.set_user_attr(SWEEP_ATTR, description)
    elif stored != description:
        differs = [key for key in description if stored.get(key) != description[key]]
        raise HarnessError(
            f"study {name!r} in this storage was made by a different sweep (its "
            f"{', '.join(differs)} differ: {_short(stored, differs)}). Pass --study=A_NEW_NAME "
            "for this search, or the sweep file that made it to continue that one."
        )
    return study


def budget_used(trials) -> int:
    """Trials that count against --trials: finished or running, not those queued to resume."""
    return sum(1 for t in trials if counts(t))


def counts(t) -> bool:
    """Whether trial `t` counts against the budget (and shows in the results)."""
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
        return True
    return t.state == TrialState.FAIL and not (
        t.user_attrs.get(INTERRUPTED) or t.user_attrs.get(OVER_BUDGET)
    )


def over_budget(study, storage, trial, budget: int) -> bool:
    """Checking the budget and asking for a trial are two steps, so processes that ask at
    once can overshoot it: a new trial (not a resumption) numbered after the budget's last is
    withdrawn (marked failed, over budget: counted nowhere, shown nowhere)."""
    if trial.user_attrs.get(RESUMES) is not None:
        return False
    earlier = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number]
    if sum(1 for t in earlier if counts(t)) < budget:
        return False
    storage.set_trial_user_attr(trial._trial_id, OVER_BUDGET, True)
    study.tell(trial, state=TrialState.FAIL)
    return True


def running_elsewhere(study, mine: set[int]) -> int:
    """Running trials of other processes (the last process waits for them to end or go
    stale, so that a trial whose process died is resumed, not left running)."""
    return sum(
        1
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if t.number not in mine
    )


def is_running(storage, trial_id: int) -> bool:
    return storage.get_trial(trial_id).state == TrialState.RUNNING


def has_waiting(trials) -> bool:
    return any(t.state == TrialState.WAITING for t in trials)


def interrupt(study, storage, trial, *, reason: str) -> None:
    """Marks a running trial failed because its process stopped, and queues its resumption.
    Of several processes doing this at once, one succeeds: only it queues the trial again."""
    try:
        storage.set_trial_user_attr(trial._trial_id, FAIL_REASON, reason)
        storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
        study.tell(trial.number, state=TrialState.FAIL)
    except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
        return  # Another process finished it first.
    study.enqueue_trial(
        trial.params,
        user_attrs={RESUMES: trial.number, TRIAL_DIR: trial.user_attrs.get(TRIAL_DIR)},
        skip_if_exists=False,
    )


def reclaim_stale(study, storage, *, now=None) -> list[int]:
    """Interrupts the running trials whose sweep process stopped beating; their numbers."""
    now = time.time() if now is None else now
    reclaimed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        interval = t.user_attrs.get(HEARTBEAT_S, 30)
        last = t.user_attrs.get(HEARTBEAT, t.datetime_start.timestamp())
        if now - last > 3 * interval + 5:
            interrupt(
                study,
                storage,
                t,
                reason=f"its sweep process stopped beating {now - last:.0f} s ago; resumed",
            )
            reclaimed.append(t.number)
    return reclaimed


def beat(storage, trial_id: int, interval: float) -> None:
    storage.set_trial_user_attr(trial_id, HEARTBEAT, time.time())
    storage.set_trial_user_attr(trial_id, HEARTBEAT_S, interval)


def _short(stored: dict, keys) -> str:
    return "; ".join(f"{key} was {json.dumps(stored.get(key))[:120]}" for key in keys)


def redacted(url: str) -> str:
    """The URL without its password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':')[0]}:***@{host}"
    return url
