"""NumPy .npz files: values read back, classification or regression by the label's dtype, split
fractions, one-line errors, and real runs under 1 replica, 2 replicas and 2 workers."""

import numpy as np
import pytest

from tests.support.helpers import Cluster, assert_ok, read_results, train

SOURCE = "trainer.data.npz_source:NpzSource"


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0), digits.target  # float64 features, int64 labels


def _config(tmp_path, **args) -> str:
    """An experiment file that trains the zoo's MLP on an .npz source."""
    lines = [f"    config.data.args.{k} = {v!r}" for k, v in args.items()]
    path = tmp_path / "npz_config.py"
    path.write_text(
        "from configs import base\n\n\ndef get_config():\n"
        f"    config = base.get_config(model='mlp', data={SOURCE!r})\n"
        + "\n".join(lines)
        + "\n    config.train.global_batch_size = 64\n"
        "    config.train.steps = 300\n"
        "    config.train.steps_per_loop = 50\n"
        "    config.eval.every_steps = 0\n"
        "    return config\n"
    )
    return str(path)


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    x, y = _digits()
    path = tmp_path_factory.mktemp("npz") / "digits.npz"
    np.savez(path, x=x, y=y)
    return str(path)


@pytest.mark.parametrize("replicas", [1, 2])
def test_training_from_an_npz_file(tmp_path, digits_file, replicas):
    # 1797 rows: train 1011, validation 337, test 449: none divides by 64 or by 2 replicas.
    config = _config(tmp_path, path=digits_file)
    workdir = str(tmp_path / "run")
    strategy = ["--strategy=mirrored", "--num_cpu_devices=2"] if replicas == 2 else []
    assert_ok(train(f"--config={config}", f"--workdir={workdir}", "--progress=quiet", *strategy))
    results = read_results(workdir)
    assert results["replicas"] == replicas
    assert results["test"]["accuracy"] > 0.85


@pytest.mark.slow
def test_two_workers_train_from_an_npz_file(tmp_path, digits_file):
    config = _config(tmp_path, path=digits_file)
    cluster = Cluster([tmp_path / "chief", tmp_path / "worker1"], f"--config={config}")
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    results = read_results(tmp_path / "chief")
    assert results["workers"] == 2 and results["test"]["accuracy"] > 0.85
