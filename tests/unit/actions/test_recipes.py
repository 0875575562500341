"""The recipe's actions from the config: what runs, and the checks before training (the order
they run in is tests of trainer/run/schedule.py)."""

import types

import pytest

from configs import base
from trainer.actions import recipes
from trainer.actions.best_export import ExportBest
from trainer.actions.early_stopping import EarlyStopping
from trainer.actions.plateau import ReduceOnPlateau
from trainer.actions.recipes import RECIPES, SECTIONS, recipe_actions
from trainer.actions.recovery import RecoverFromDivergence
from trainer.errors import HarnessError
from trainer.workdir.directory import Workdir
from trainer.workdir.training_state import TrainingState

METRICS = {"loss": 0.0, "accuracy": 0.0}


def _actions(tmp_path, **sections):
    config = base.get_config()
    config.eval.every_steps = 100
    for field, value in sections.items():
        section, name = field.split("__")
        with config.unlocked():  # A field the section does not have, for the signature check.
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
    assert (actions.early_stopping, actions.reduce_on_plateau, actions.export_best) == (None,) * 3
    assert actions.results() == {
        "rollbacks": [],
        "early_stopping": None,
        "learning_rate_reductions": None,
        "best_export": None,
    }


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


def test_each_section_builds_its_registered_action_with_the_section_s_fields(tmp_path):
    actions = _actions(
        tmp_path,
        early_stopping__monitor="loss",
        early_stopping__patience=2,
        reduce_on_plateau__monitor="accuracy",
        export__best_metric="accuracy",
    )
    assert isinstance(actions.recovery, RecoverFromDivergence)
    assert isinstance(actions.early_stopping, EarlyStopping)
    assert isinstance(actions.reduce_on_plateau, ReduceOnPlateau)
    assert isinstance(actions.export_best, ExportBest)
    summary = actions.early_stopping.summary()
    assert (summary["monitor"], summary["mode"]) == ("loss", "min")
    assert {RECIPES.resolve(name) for name in SECTIONS} == {
        RecoverFromDivergence,
        recipes.early_stopping,
        recipes.reduce_on_plateau,
        recipes.best_export,
    }


def test_a_section_that_does_not_match_its_action_names_the_signature(tmp_path):
    with pytest.raises(HarnessError) as error:
        _actions(tmp_path, early_stopping__monitor="loss", early_stopping__patiense=3)
    message = str(error.value)
    assert message.startswith(
        "config.early_stopping does not match trainer.actions.recipes:early_stopping(*, monitor"
    )
    assert "unknown argument(s) ['patiense']" in message


def test_recovery_gets_its_section_s_values(tmp_path):
    with pytest.raises(HarnessError, match=r"config.recovery.max_rollbacks=-1 must be >= 0"):
        _actions(tmp_path, recovery__max_rollbacks=-1)
    with pytest.raises(HarnessError, match=r"learning_rate_factor=2.0 must be in \(0, 1\]"):
        _actions(tmp_path, recovery__learning_rate_factor=2.0)
