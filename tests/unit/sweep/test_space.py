"""Search spaces, trial configs and study bookkeeping, in process (no training)."""

import json

import optuna
import pytest
from optuna.trial import TrialState

from tests.support.helpers import raises_one_line
from trainer.sweep import overrides, settings, space
from trainer.sweep import study as studies
from trainer.sweep import trial as trials

DIGITS = "configs/digits_mlp.py"

SPACE = {
    "model.args.hidden_units": space.layers(
        depth=space.int_range(1, 3), width=space.int_range(4, 64, step=4), per_layer=True
    ),
    "train.learning_rate": space.log_range(1e-4, 1e-2),
    "train.optimizer": space.choice(
        ["adam", "sgd"], when={"sgd": {"train.optimizer_args.momentum": space.float_range(0, 0.9)}}
    ),
}


def test_draw_gives_one_width_per_layer_and_conditional_fields():
    parameters = space.check(settings.get_config(parameters=SPACE).parameters)
    fixed = {
        "model.args.hidden_units.depth": 2,
        "model.args.hidden_units.width_0": 8,
        "model.args.hidden_units.width_1": 60,
        "train.learning_rate": 1e-3,
        "train.optimizer": "sgd",
        "train.optimizer_args.momentum": 0.5,
    }
    drawn = space.draw(optuna.trial.FixedTrial(fixed), parameters)
    assert drawn == {
        "model.args.hidden_units": (8, 60),
        "train.learning_rate": 1e-3,
        "train.optimizer": "sgd",
        "train.optimizer_args.momentum": 0.5,
    }
    adam = dict(fixed, **{"train.optimizer": "adam"})
    drawn = space.draw(optuna.trial.FixedTrial(adam), parameters)
    assert "train.optimizer_args.momentum" not in drawn


def test_a_random_study_draws_within_every_range():
    parameters = space.check(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(30):
        trial = study.ask()
        drawn = space.draw(trial, parameters)
        units = drawn["model.args.hidden_units"]
        assert 1 <= len(units) <= 3 and all(4 <= u <= 64 and u % 4 == 0 for u in units)
        assert 1e-4 <= drawn["train.learning_rate"] <= 1e-2
        assert ("train.optimizer_args.momentum" in drawn) == (drawn["train.optimizer"] == "sgd")
        study.tell(trial, 0.0)


def test_grid_lists_every_value_and_refuses_continuous_ranges():
    grid = space.grid(
        space.check({"a.b": space.int_range(1, 3), "c.d": space.float_range(0, 0.5, step=0.25)})
    )
    assert grid == {"a.b": [1, 2, 3], "c.d": [0.0, 0.25, 0.5]}
    raises_one_line(lambda: space.grid(space.check(SPACE)), "no conditional fields")
    log_rate = space.check({"train.learning_rate": space.log_range(1e-4, 1e-2)})
    raises_one_line(lambda: space.grid(log_rate), "float_range(..., step=)")
    # A step that does not divide the range stops at its last value inside it.
    assert space.grid({"a": space.float_range(0.0, 1.0, step=0.6)})["a"] == [0.0, 0.6]


@pytest.mark.parametrize(
    "distribution, message",
    [
        (space.int_range(3, 3), "empty of choices"),
        (space.float_range(1.0, 0.1), "reversed (low 1.0 > high 0.1)"),
        (space.log_range(0.0, 1.0), "log range needs low > 0"),
        (space.choice([]), "choice() of no values"),
        (space.int_range(1, 4.5), "int_range takes integers"),
        ({"low": 1}, "is not a distribution"),
        (space.choice(["a"], when={"b": {"x.y": space.int_range(0, 1)}}), "not among"),
    ],
)
def test_bad_distributions_are_one_line_each(distribution, message):
    raises_one_line(lambda: space.check({"train.learning_rate": distribution}), message)


def test_an_empty_space_is_an_error():
    raises_one_line(lambda: space.check({}), "is empty")


def test_overrides_reach_existing_fields_and_free_form_sections_only():
    config = overrides.load_config_file(DIGITS)
    overrides.apply(
        config,
        {
            "train.learning_rate": 0.01,
            "model.args.hidden_units": [32, 16],
            "train.optimizer_args.momentum": 0.9,
        },
        where=DIGITS,
    )
    assert config.model.args.hidden_units == (32, 16)
    assert config.train.optimizer_args.momentum == 0.9
    raises_one_line(
        lambda: overrides.apply(config, {"train.learning_rat": 0.1}, where=DIGITS),
        "config field train.learning_rat does not exist",
    )
    raises_one_line(
        lambda: overrides.apply(config, {"trainn.steps": 1}, where=DIGITS),
        "no trainn",
    )
    raises_one_line(
        lambda: overrides.apply(config, {"train.steps": "many"}, where=DIGITS),
        "config field train.steps is int",
    )


def test_a_written_trial_config_loads_as_the_base_with_its_overrides(tmp_path):
    path = tmp_path / "trial.py"
    path.write_text(
        overrides.config_file_text(
            base=DIGITS,
            overrides={"train.steps": 7, "model.args.hidden_units": [5]},
            title="A trial.",
            description="For a test.",
            path=str(path),
        )
    )
    config = overrides.load_config_file(str(path))
    base = overrides.load_config_file(DIGITS)
    assert config.train.steps == 7 and config.model.args.hidden_units == (5,)
    assert config.train.learning_rate == base.train.learning_rate


def test_budget_counts_finished_and_running_trials_but_not_those_queued_to_resume():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage)
    done, running, lost = study.ask(), study.ask(), study.ask()
    study.tell(done, 1.0)
    lost.set_user_attr(studies.TRIAL_DIR, "/tmp/somewhere")
    studies.interrupt(study, storage, study.trials[lost.number], reason="stopped")
    trials_ = study.get_trials(deepcopy=False)
    assert studies.budget_used(trials_) == 2  # done + running; lost is queued again.
    assert studies.has_waiting(trials_)
    resumed = study.ask()
    assert resumed.user_attrs[studies.RESUMES] == lost.number
    assert resumed.user_attrs[studies.TRIAL_DIR] == "/tmp/somewhere"
    # A second process that finds the same trial lost does not queue it twice.
    studies.interrupt(study, storage, study.trials[lost.number], reason="again")
    assert not studies.has_waiting(study.get_trials(deepcopy=False))
    assert running.number not in (done.number, lost.number, resumed.number)


def test_a_trial_asked_for_past_the_budget_is_withdrawn_unseen():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage)
    first, second = study.ask(), study.ask()  # Two processes asked when one slot was left.
    assert not studies.over_budget(study, storage, first, budget=1)
    assert studies.over_budget(study, storage, second, budget=1)
    assert studies.budget_used(study.get_trials(deepcopy=False)) == 1


def test_a_trial_whose_process_stopped_beating_is_reclaimed_once():
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage)
    quiet, alive = study.ask(), study.ask()
    studies.beat(storage, quiet._trial_id, 1.0)
    studies.beat(storage, alive._trial_id, 1.0)
    later = study.trials[quiet.number].user_attrs[studies.HEARTBEAT] + 9.0
    storage.set_trial_user_attr(alive._trial_id, studies.HEARTBEAT, later - 1.0)
    assert studies.reclaim_stale(study, storage, now=later) == [quiet.number]
    assert study.trials[quiet.number].state == TrialState.FAIL
    assert "stopped beating 9 s ago" in study.trials[quiet.number].user_attrs[studies.FAIL_REASON]
    assert studies.reclaim_stale(study, storage, now=later) == []


def test_a_study_made_by_another_sweep_is_refused():
    storage = optuna.storages.InMemoryStorage()
    sweep = settings.get_config(parameters=SPACE)
    parameters = space.check(sweep.parameters)

    def open_with(parameters_):
        return studies.open_study(
            storage=storage,
            name="s",
            sweep=sweep,
            description=studies.describe(sweep, parameters_, "digits_mlp.py", {"train.steps": 9}),
            sampler=None,
            pruner=None,
        )

    open_with(parameters)
    open_with(parameters)  # The same sweep continues.
    other = space.check({"train.learning_rate": space.log_range(1e-5, 1e-2)})
    raises_one_line(lambda: open_with(other), "made by a different sweep (its space")


@pytest.mark.parametrize(
    "exit_code, stopping, state, reason",
    [
        (42, False, "interrupted", "stopped by the sweep"),
        (-15, True, "interrupted", "stopped by the sweep"),  # Stopped before it could save.
        (-9, False, "failed", "killed by SIGKILL (out of memory?)"),
        (137, False, "failed", "killed by SIGKILL"),
        (2, False, "failed", "exit 2: error: bad thing"),
        (0, False, "failed", "no results.json"),
    ],
)
def test_outcomes_of_exit_codes(tmp_path, exit_code, stopping, state, reason):
    result = trials.outcome(
        exit_code,
        workdir=str(tmp_path),
        metric="loss",
        tail=["working", "error: bad thing", "done"],
        stopping=stopping,
    )
    assert result.state == state and reason in result.reason


@pytest.mark.parametrize(
    "results, state, reason",
    [
        ({"validation": {"loss": 0.5}, "stop_reason": None}, "complete", ""),
        ({"validation": {"loss": 0.9}, "stop_reason": "pruned by the sweep at 20"}, "pruned", "20"),
        ({"validation": {"loss": float("nan")}}, "failed", "validation loss is nan"),
        ({"validation": {"accuracy": 0.9}}, "failed", "no validation 'loss'"),
    ],
)
def test_outcomes_of_finished_runs(tmp_path, results, state, reason):
    (tmp_path / "results.json").write_text(json.dumps(results))
    result = trials.outcome(0, workdir=str(tmp_path), metric="loss", tail=[], stopping=False)
    assert result.state == state and reason in result.reason
    if state == "complete":
        assert result.value == pytest.approx(0.5, rel=1e-12)


def test_storage_urls_hide_passwords_and_remote_workdirs_need_a_storage():
    assert studies.redacted("postgresql://me:secret@db:5432/x") == "postgresql://me:***@db:5432/x"
    raises_one_line(lambda: studies.storage_url("", "gs://b/s"), "--storage=")
