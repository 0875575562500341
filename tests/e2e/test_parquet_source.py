"""Parquet tables: values read back in memory and streamed, classification or regression by the
label's type, row-group sharding across input pipelines, one-line errors, and real runs under 1
replica, 2 replicas and 2 workers."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.helpers import Cluster, assert_ok, read_results, train

SOURCE = "trainer.data.parquet_source:ParquetSource"

SIZES = {"train": 1001, "validation": 53, "test": 67}  # Divide neither by the batch nor by 2.

WEIGHTS = np.array([1.0, -2.0, 0.5, 3.0])


def _table(count, seed):
    """Four numeric columns of mixed types and a float target; column `a` tells rows apart."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 4))
    x[:, 2] = np.round(x[:, 2] * 10)
    columns = {
        "a": x[:, 0],
        "b": x[:, 1].astype(np.float32),
        "c": x[:, 2].astype(np.int64),
        "d": x[:, 3],
        "name": [f"row{i}" for i in range(count)],
        "target": x @ WEIGHTS + 0.05 * rng.standard_normal(count),
    }
    return pa.table(columns)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """{split: (path, table)}: train a directory of 3 files of 150-row row groups (7 in all)."""
    root = tmp_path_factory.mktemp("parquet")
    out = {}
    for seed, (split, count) in enumerate(SIZES.items()):
        table = _table(count, seed)
        if split == "train":
            (root / "train").mkdir()
            cuts = [0, 450, 750, count]
            for i in range(3):
                part = table.slice(cuts[i], cuts[i + 1] - cuts[i])
                pq.write_table(part, root / "train" / f"part-{i}.parquet", row_group_size=150)
            (root / "train" / "_SUCCESS").write_text("")
            out[split] = (str(root / "train"), table)
        else:
            pq.write_table(table, root / f"{split}.parquet", row_group_size=20)
            out[split] = (str(root / f"{split}.parquet"), table)
    return out


def _config(tmp_path, tables, **args) -> str:
    """An experiment file: the zoo's MLP regressing the target, as the California configs do."""
    lines = [f"    config.data.args.{split} = {tables[split][0]!r}" for split in SIZES]
    lines += [f"    config.data.args.{k} = {v!r}" for k, v in args.items()]
    path = tmp_path / "parquet_config.py"
    path.write_text(
        "from configs import base\n\n\ndef get_config():\n"
        f"    config = base.get_config(model='mlp', data={SOURCE!r})\n"
        + "\n".join(lines)
        + "\n    config.data.args.features = ('a', 'b', 'c', 'd')\n"
        "    config.data.args.label = 'target'\n"
        "    config.model.args.hidden_units = (32,)\n"
        "    config.model.args.normalize = True\n"
        "    config.train.loss = 'mse'\n"
        "    config.train.metrics = ('mae',)\n"
        "    config.train.learning_rate = 1e-2\n"
        "    config.train.global_batch_size = 64\n"
        "    config.train.steps = 300\n"
        "    config.train.steps_per_loop = 50\n"
        "    config.eval.every_steps = 0\n"
        "    return config\n"
    )
    return str(path)


@pytest.mark.parametrize("replicas, memory_limit_mb", [(1, 256.0), (2, 0.0)])
def test_training_from_parquet(tmp_path, tables, replicas, memory_limit_mb):
    config = _config(tmp_path, tables, memory_limit_mb=memory_limit_mb)
    workdir = str(tmp_path / "run")
    strategy = ["--strategy=mirrored", "--num_cpu_devices=2"] if replicas == 2 else []
    assert_ok(train(f"--config={config}", f"--workdir={workdir}", "--progress=quiet", *strategy))
    results = read_results(workdir)
    assert results["replicas"] == replicas
    assert results["test"]["loss"] < 0.1 * float(np.sum(WEIGHTS**2))  # The target's variance.


@pytest.mark.slow
def test_two_workers_stream_their_row_groups(tmp_path, tables):
    config = _config(tmp_path, tables, memory_limit_mb=0.0)
    cluster = Cluster([tmp_path / "chief", tmp_path / "worker1"], f"--config={config}")
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    results = read_results(tmp_path / "chief")
    assert results["workers"] == 2
    assert results["test"]["loss"] < 0.1 * float(np.sum(WEIGHTS**2))
