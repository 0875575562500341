"""Who this process is in the cluster, parsed from TF_CONFIG the way tf.distribute reads it."""

import dataclasses
import json
import os


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    """This process's place in the cluster. A lone process is a cluster of one chief."""

    task_type: str | None
    task_id: int
    num_workers: int  # Tasks that train: chief + workers (not evaluators or parameter servers).
    has_chief_task: bool = False  # The cluster names a separate `chief` task.

    @property
    def is_chief(self) -> bool:
        """The chief writes the workdir: task type `chief`, else worker 0, else a lone process."""
        if self.task_type in (None, "chief"):
            return True
        return self.task_type == "worker" and self.task_id == 0 and not self.has_chief_task


def cluster_info(environ=None) -> ClusterInfo:
    """Reads TF_CONFIG (if set) into a ClusterInfo; raises ValueError naming what is wrong."""
    environ = os.environ if environ is None else environ
    raw = environ.get("TF_CONFIG", "").strip()
    if not raw:
        return ClusterInfo(task_type=None, task_id=0, num_workers=1)
    example = '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}'
    try:
        tf_config = json.loads(raw)
        cluster = tf_config.get("cluster", {})
        task = tf_config.get("task", {})
        task_type, task_id = task.get("type"), int(task.get("index", 0))
    except (ValueError, AttributeError, TypeError) as e:
        raise ValueError(f"TF_CONFIG must be JSON like {example}; got {raw[:200]!r}") from e
    if cluster and task_type not in cluster:
        raise ValueError(
            f"TF_CONFIG task type {task_type!r} is not in its cluster {sorted(cluster)}: "
            "fix TF_CONFIG."
        )
    if cluster and not 0 <= task_id < len(cluster[task_type]):
        raise ValueError(
            f"TF_CONFIG task index {task_id} is out of range for the "
            f"{len(cluster[task_type])} {task_type!r} tasks of its cluster: fix TF_CONFIG."
        )
    num_workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    return ClusterInfo(
        task_type=task_type,
        task_id=task_id,
        num_workers=max(num_workers, 1),
        has_chief_task=bool(cluster.get("chief")),
    )
