"""The actions of a run in the order of trainer/run/schedule.py's ORDER."""

import types

import pytest

from configs import base
from tests.unit.actions.test_recipes import _actions
from trainer.loop.controller import Scheduled
from trainer.run import schedule


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
        watcher=object(),
        recipe=recipe,
        progress=lambda state: None,
        summaries=object(),
        evaluate=lambda split: {},
        profiler=None,
        user=[Scheduled(lambda state: None, 7, "mine")],
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
        ("mine", 7),
        ("checkpoint", 200),
    ]


def test_an_interval_of_0_leaves_its_place_empty_but_the_evaluation_runs_at_the_last_step(
    tmp_path,
):
    names = _scheduled_names(
        tmp_path,
        _actions(tmp_path),
        eval__every_steps=0,
        checkpoint__every_steps=0,
        train__steps=250,
    )
    assert names == [
        ("recovery", 0),
        ("progress", 0),
        ("tb", 0),
        ("preemption", 0),
        ("evaluation", 250),
        ("mine", 7),
    ]


@pytest.mark.parametrize(("every_steps", "due"), [(10, [10, 20, 25]), (0, [25])])
def test_the_evaluation_is_due_at_its_interval_and_at_the_last_step(every_steps, due):
    config = base.get_config()
    config.train.steps, config.eval.every_steps = 25, every_steps
    evaluation = schedule._evaluation(config, evaluate=lambda split: {})
    assert [step for step in range(1, 26) if evaluation.due(step)] == due
    assert evaluation.next_step(20) == 25  # A host loop ends at the last step.


def test_every_place_has_a_reason_and_a_name_of_its_own():
    names = [place.name for place in schedule.ORDER]
    assert len(set(names)) == len(names)
    assert all(len(place.why) > 20 for place in schedule.ORDER)


def test_an_action_without_a_place_is_refused():
    with pytest.raises(ValueError, match=r"\['mystery'\] have no place"):
        schedule.in_order({"mystery": [Scheduled(lambda state: None, name="mystery")]})
