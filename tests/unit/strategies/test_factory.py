"""Strategy selection in-process: what `auto` picks for a TF_CONFIG, a named TPU, one CPU or a
Kubernetes Indexed Job, and unknown names (strategies created in a fresh runtime are
tests/e2e/test_factory.py)."""

import json

import pytest

from strategies import factory


def test_auto_prefers_multi_worker_when_tf_config_names_several_workers(monkeypatch):
    env = {
        "TF_CONFIG": json.dumps(
            {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}
        )
    }
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    name, reason = factory._pick_automatically(None, env)
    assert name == "multi_worker_mirrored" and "2 workers" in reason


def test_auto_picks_tpu_when_one_is_named(monkeypatch):
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    assert factory._pick_automatically("my-tpu", {})[0] == "tpu"
    assert factory._pick_automatically(None, {"TPU_NAME": "my-tpu"})[0] == "tpu"


def test_auto_on_one_cpu_is_the_default_strategy(monkeypatch):
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    name, reason = factory._pick_automatically(None, {})
    assert name == "default" and "CPU" in reason


def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(factory.StrategyError, match="Valid strategies: auto, default"):
        factory.create_strategy("horovod")


def test_auto_on_a_kubernetes_indexed_job_is_multi_worker(monkeypatch):
    monkeypatch.setattr(factory, "_local_tpu_present", lambda: False)
    env = {
        "JOB_COMPLETION_INDEX": "0",
        "HOSTNAME": "train-0",
        "TRAINER_WORKERS": "4",
        "TRAINER_SERVICE": "svc",
    }
    assert factory._pick_automatically(None, env) == (
        "multi_worker_mirrored",
        "TF_CONFIG names 4 workers",
    )
