import json

import pytest

from strategies.cluster import cluster_info


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
