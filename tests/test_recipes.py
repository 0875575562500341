"""The recipe's actions from the config: what runs, in which order, and the checks before
training."""

import types

import pytest

from configs import base
from trainer.actions.recipes import recipe_actions
from trainer.errors import HarnessError
from trainer.workdir.directory import Workdir
from trainer.workdir.training_state import TrainingState

METRICS = {"loss": 0.0, "accuracy": 0.0}


def _actions(tmp_path, **sections):
    config = base.get_config()
    config.eval.every_steps = 100
    for field, value in sections.items():
        section, name = field.split("__")
        config[section][name] = value
    experiment = types.SimpleNamespace(
        training_state=TrainingState(), checkpointer=None, averaged_weights=None
    )
    return recipe_actions(
        config,
        experiment=experiment,
        workdir=Workdir(str(tmp_path), is_chief=True),
        metrics=METRICS,
        export=lambda directory: {},
    )


def test_nothing_watches_validation_by_default(tmp_path):
    actions = _actions(tmp_path)
    assert actions.on_validation() == []
    assert actions.results() == {
        "rollbacks": [],
        "early_stopping": None,
        "learning_rate_reductions": None,
        "best_export": None,
    }


def test_the_best_export_runs_before_a_plateau_and_a_stop(tmp_path):
    actions = _actions(
        tmp_path,
        early_stopping__monitor="loss",
        reduce_on_plateau__monitor="loss",
        export__best_metric="accuracy",
    )
    names = [scheduled.name for scheduled in actions.on_validation()]
    assert names == ["export_best", "reduce_on_plateau", "early_stopping"]


@pytest.mark.parametrize(
    "sections, fragment",
    [
        (
            {"early_stopping__monitor": "loss", "eval__every_steps": 0},
            "set config.eval.every_steps",
        ),
        ({"early_stopping__monitor": "loss", "early_stopping__patience": 0}, "patience=0"),
        ({"early_stopping__monitor": "loss", "early_stopping__mode": "up"}, "mode='up'"),
        ({"early_stopping__monitor": "loss", "early_stopping__min_delta": -1.0}, "min_delta=-1"),
        ({"reduce_on_plateau__monitor": "mae"}, "config.reduce_on_plateau.monitor='mae'"),
        ({"export__best_metric": "auc"}, "config.export.best_metric='auc'"),
        ({"export__best_metric": "loss", "export__best_mode": "lowest"}, "best_mode='lowest'"),
    ],
)
def test_bad_settings_are_named_before_training(tmp_path, sections, fragment):
    with pytest.raises(HarnessError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        _actions(tmp_path, **sections)
