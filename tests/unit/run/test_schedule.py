"""The actions of a run in the order of trainer/run/schedule.py's ORDER."""

import types

import pytest

from configs import base
from tests.unit.actions.test_recipes import _actions
from trainer.loop.controller import Scheduled
from trainer.run import schedule
from trainer.workdir.directory import Workdir


def _scheduled_names(tmp_path, recipe, **config_fields):
    config = base.get_config()
    for field, value in config_fields.items():
        section, name = field.split("__")
        config[section][name] = value
    experiment = types.SimpleNamespace(
        host_loop=types.SimpleNamespace(any_worker=lambda stop: stop),
        checkpointer=object(),
        learning_rate=lambda: 0.1,
    )
    actions = schedule.run_actions(
        config=config,
        experiment=experiment,
        workdir=Workdir(str(tmp_path / "run"), is_chief=True),
        watcher=object(),
        recipe=recipe,
        progress=lambda state: None,
        summaries=object(),
        evaluate=lambda split: {},
        profiler=None,
    )
    return [(scheduled.name, scheduled.every_steps) for scheduled in actions]


def test_every_action_of_a_full_recipe_runs_in_order(tmp_path):
    recipe = _actions(
        tmp_path,
        early_stopping__monitor="loss",
        reduce_on_plateau__monitor="loss",
        export__best_metric="accuracy",
    )
    names = _scheduled_names(tmp_path, recipe, eval__every_steps=100, checkpoint__every_steps=200)
    assert names == [
        ("recovery", 0),
        ("progress", 0),
        ("tb", 0),
        ("preemption", 0),
        ("evaluation", 100),
        ("export_best", 0),
        ("reduce_on_plateau", 0),
        ("early_stopping", 0),
        ("checkpoint", 200),
    ]


def test_an_interval_of_0_leaves_its_place_empty(tmp_path):
    names = _scheduled_names(
        tmp_path, _actions(tmp_path), eval__every_steps=0, checkpoint__every_steps=0
    )
    assert [name for name, _ in names] == ["recovery", "progress", "tb", "preemption"]


def test_every_place_has_a_reason_and_a_name_of_its_own():
    names = [place.name for place in schedule.ORDER]
    assert len(set(names)) == len(names)
    assert all(len(place.why) > 20 for place in schedule.ORDER)


def test_an_action_without_a_place_is_refused():
    with pytest.raises(ValueError, match=r"\['mystery'\] have no place"):
        schedule.in_order({"mystery": [Scheduled(lambda state: None, name="mystery")]})
