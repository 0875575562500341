import json
import re

import pytest

from strategies.cluster import cluster_info, derive_tf_config, export_tf_config


def _env(cluster, task_type, index):
    return {
        "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})
    }


def test_no_tf_config_is_a_lone_chief():
    info = cluster_info({})
    assert (info.task_type, info.task_id, info.num_workers, info.is_chief) == (None, 0, 1, True)


def test_worker_zero_is_chief_when_there_is_no_chief_task():
    cluster = {"worker": ["a:1", "b:1", "c:1"]}
    assert cluster_info(_env(cluster, "worker", 0)).is_chief
    assert not cluster_info(_env(cluster, "worker", 2)).is_chief
    assert cluster_info(_env(cluster, "worker", 1)).num_workers == 3


def test_chief_task_is_chief_and_worker_zero_is_not():
    cluster = {"chief": ["c:1"], "worker": ["a:1", "b:1"]}
    assert cluster_info(_env(cluster, "chief", 0)).is_chief
    assert not cluster_info(_env(cluster, "worker", 0)).is_chief
    assert cluster_info(_env(cluster, "worker", 0)).num_workers == 3


def test_evaluator_does_not_count_as_a_training_worker():
    cluster = {"worker": ["a:1", "b:1"], "evaluator": ["e:1"]}
    info = cluster_info(_env(cluster, "evaluator", 0))
    assert info.num_workers == 2 and not info.is_chief


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("{not json", "must be JSON"),
        (
            json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}),
            "'ps' is not in its cluster",
        ),
        (
            json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}),
            "index 3 is out of range",
        ),
    ],
)
def test_bad_tf_config_says_what_is_wrong(raw, fragment):
    with pytest.raises(ValueError, match=fragment):
        cluster_info({"TF_CONFIG": raw})


def _worker_tf_config(environ):
    return json.loads(derive_tf_config(environ))


def test_tf_config_wins_over_kubernetes_variables():
    raw = json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}})
    assert derive_tf_config({"TF_CONFIG": raw, "JOB_COMPLETION_INDEX": "3"}) == raw


def test_outside_a_cluster_there_is_no_tf_config():
    assert derive_tf_config({}) is None


def test_indexed_job_workers_are_named_by_hostname_and_service():
    env = {
        "JOB_COMPLETION_INDEX": "2",
        "HOSTNAME": "train-mnist-2",
        "TRAINER_WORKERS": "3",
        "TRAINER_SERVICE": "train-mnist-workers",
    }
    assert _worker_tf_config(env) == {
        "cluster": {"worker": [f"train-mnist-{i}.train-mnist-workers:2222" for i in range(3)]},
        "task": {"type": "worker", "index": 2},
    }
    info = cluster_info(env)
    assert info.num_workers == 3 and not info.is_chief
    assert cluster_info({**env, "JOB_COMPLETION_INDEX": "0", "HOSTNAME": "train-mnist-0"}).is_chief


def test_indexed_job_name_and_port_can_be_given():
    env = {
        "JOB_COMPLETION_INDEX": "0",
        "TRAINER_JOB_NAME": "job",
        "TRAINER_WORKERS": "2",
        "TRAINER_SERVICE": "svc",
        "TRAINER_PORT": "5000",
    }
    assert _worker_tf_config(env)["cluster"]["worker"] == ["job-0.svc:5000", "job-1.svc:5000"]


def test_jobset_workers_follow_jobset_hostnames():
    env = {
        "JOB_COMPLETION_INDEX": "1",
        "JOBSET_NAME": "llm",
        "REPLICATED_JOB_NAME": "workers",
        "JOB_INDEX": "1",
        "REPLICATED_JOB_REPLICAS": "2",
        "TRAINER_WORKERS": "2",
    }
    tf_config = _worker_tf_config(env)
    assert tf_config["cluster"]["worker"] == [
        "llm-workers-0-0.llm:2222",
        "llm-workers-0-1.llm:2222",
        "llm-workers-1-0.llm:2222",
        "llm-workers-1-1.llm:2222",
    ]
    assert tf_config["task"] == {"type": "worker", "index": 3}


@pytest.mark.parametrize(
    "env, fragment",
    [
        (
            {"JOB_COMPLETION_INDEX": "0", "TRAINER_SERVICE": "s", "HOSTNAME": "j-0"},
            "TRAINER_WORKERS is not set",
        ),
        (
            {"JOB_COMPLETION_INDEX": "0", "TRAINER_WORKERS": "2", "HOSTNAME": "j-0"},
            "TRAINER_SERVICE is not set",
        ),
        (
            {"JOB_COMPLETION_INDEX": "0", "TRAINER_WORKERS": "two", "TRAINER_SERVICE": "s"},
            "TRAINER_WORKERS='two' must be an integer",
        ),
        (
            {
                "JOB_COMPLETION_INDEX": "4",
                "TRAINER_WORKERS": "2",
                "TRAINER_SERVICE": "s",
                "HOSTNAME": "j-4",
            },
            "worker index 4 is outside the 2 workers",
        ),
        (
            {
                "JOB_COMPLETION_INDEX": "1",
                "TRAINER_WORKERS": "2",
                "TRAINER_SERVICE": "s",
                "HOSTNAME": "laptop",
            },
            "set TRAINER_JOB_NAME",
        ),
    ],
)
def test_incomplete_kubernetes_environment_says_what_to_set(env, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        derive_tf_config(env)


def test_the_derived_tf_config_is_exported_for_the_strategy_to_read():
    env = {
        "JOB_COMPLETION_INDEX": "1",
        "HOSTNAME": "train-1",
        "TRAINER_WORKERS": "2",
        "TRAINER_SERVICE": "svc",
    }
    export_tf_config(env)
    assert json.loads(env["TF_CONFIG"])["task"] == {"type": "worker", "index": 1}
    assert export_tf_config({}) is None
