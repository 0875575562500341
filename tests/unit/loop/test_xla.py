"""config.train.jit_compile: auto picks XLA per device, True/False as asked, anything else is an
error; a model XLA cannot compile trains on without it, and results.json says which path ran."""

import pytest
import tensorflow as tf

from trainer.errors import HarnessError
from trainer.loop import xla


@pytest.mark.parametrize(
    "setting, enabled", [(True, True), ("True", True), ("false", False), (False, False)]
)
def test_true_and_false_in_any_spelling(setting, enabled):
    assert xla.choose_xla(setting, tf.distribute.get_strategy()).enabled is enabled


def test_auto_is_off_on_a_cpu_and_on_for_gpus_and_tpus(monkeypatch):
    strategy = tf.distribute.get_strategy()
    assert xla.choose_xla("auto", strategy).enabled is False
    for kind in ("GPU", "TPU"):
        monkeypatch.setattr(xla, "device_type", lambda strategy, kind=kind: kind)
        choice = xla.choose_xla("auto", strategy)
        assert choice.enabled is True and choice.reason == f"auto: on for {kind}s"


@pytest.mark.parametrize("setting", ["yes", "xla", 1, ""])
def test_anything_else_is_named(setting):
    with pytest.raises(HarnessError, match="must be True, False or 'auto'"):
        xla.choose_xla(setting, tf.distribute.get_strategy())
