"""Pieces of the training run in-process: the final validation given to config.actions, and the
workdir each worker's actions get."""

import os
import types

import ml_collections

from configs import base
from tests.support.helpers import run_state
from tests.support.user_project import LOG, read_calls
from trainer.loop.controller import Scheduled
from trainer.run import training
from trainer.workdir.directory import Workdir

FINAL = {"loss": 0.5, "accuracy": 0.75}


def _final(last, *actions, step=25):
    """_final_validation of a 25-step run that ended at `step`; returns (validation, the
    evaluations it ran, the states each action got)."""
    config = base.get_config()
    config.train.steps = 25
    experiment = types.SimpleNamespace(config=config)
    evaluated, seen = [], [[] for _ in actions]

    def evaluate(split):
        evaluated.append(split)
        return dict(FINAL)

    user = [
        Scheduled(lambda state, i=i: seen[i].append(state), every_steps, f"action_{i}")
        for i, every_steps in enumerate(actions)
    ]
    validation = training._final_validation(experiment, last, step, evaluate, user)
    return validation, evaluated, seen


def test_the_last_host_loops_validation_is_reused_and_not_given_to_the_actions_again():
    last = run_state(25, validation={"loss": 0.4})  # Evaluated in the loop at the last step.
    validation, evaluated, seen = _final(last, 0)
    assert validation == {"loss": 0.4} and evaluated == [] and seen == [[]]


def test_a_rerun_of_a_finished_run_gives_the_actions_the_final_validation():
    validation, evaluated, seen = _final(None, 0, 5, 10)  # No host loop ran.
    assert validation == FINAL and evaluated == ["validation"]
    # Due at step 25: every host loop (0) and every 5 steps; every 10 steps is not.
    assert [len(states) for states in seen] == [1, 1, 0]
    state = seen[0][0]
    assert (state.step, state.total_steps, state.validation) == (25, 25, FINAL)
    assert state.latest_validation == (25, FINAL) and state.train == {}


def test_a_stop_between_evaluations_gives_the_actions_the_validation_at_that_step():
    last = run_state(17)  # Asked to stop at 17; evaluated last at 10.
    last.latest_validation = (10, {"loss": 0.9})
    validation, evaluated, seen = _final(last, 0, step=17)
    assert validation == FINAL and evaluated == ["validation"]
    [state] = seen[0]
    assert (state.step, state.validation, state.train) == (17, FINAL, last.train)


def test_only_the_chief_gives_its_actions_the_workdir_the_others_their_scratch(tmp_path):
    config = base.get_config()
    config.actions = ml_collections.ConfigDict(
        {"log": {"action": "tests.support.user_project:LogCalls"}}
    )
    root = str(tmp_path / "run")
    os.makedirs(root)
    for is_chief in (True, False):
        workdir = Workdir(root, is_chief=is_chief)
        [scheduled] = training._user_actions(config, workdir)
        scheduled.action(run_state(10, validation=FINAL))
        assert read_calls(workdir.write_path()) == [(10, FINAL)]
        workdir.close()
    assert read_calls(root) == [(10, FINAL)]  # The chief's line only.
    assert os.listdir(root) == [LOG]
