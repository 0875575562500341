"""Texts in class folders, one per .txt file: generated reviews read back, split, sharded across
input pipelines and trained on by text_lstm under 1 replica, 2 replicas and 2 workers."""

import numpy as np
import pytest

from tests.support.helpers import Cluster, assert_ok, read_results, train

WORDS = {
    "negative": ("awful", "boring", "dull", "worst", "bad"),
    "neutral": ("fine", "average", "okay", "plain", "usual"),
    "positive": ("great", "superb", "lovely", "best", "good"),
}

SHARED = ("the", "film", "was", "a", "plot", "and", "actors", "café")

COUNT = 203

# 25 validation, 36 test and 142 train texts: none divides by the batches (16, 24).
FRACTIONS = dict(validation_fraction=0.1225, test_fraction=0.1775)


@pytest.fixture(scope="module")
def texts_dir(tmp_path_factory):
    """COUNT texts over three classes, each mixing shared words with its class's words."""
    root = tmp_path_factory.mktemp("texts") / "reviews"
    rng = np.random.default_rng(0)
    names = sorted(WORDS)
    for index in range(COUNT):
        name = names[index % 3]
        words = list(rng.choice(SHARED, 6)) + list(rng.choice(WORDS[name], 3))
        rng.shuffle(words)
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index:04d}.txt").write_text(" ".join(words), encoding="utf-8")
    return str(root)


RUN = (
    "--config=configs/imdb_text_folder.py",
    "--config.data.args.classes=()",
    "--progress=quiet",
    "--config.model.args.max_tokens=64",
    "--config.model.args.sequence_length=12",
    "--config.model.args.embedding_dim=8",
    "--config.model.args.lstm_units=8",
    "--config.train.steps=60",
    "--config.train.steps_per_loop=30",
    "--config.train.global_batch_size=24",
    "--config.train.learning_rate=0.01",
    "--config.eval.every_steps=0",
    "--config.eval.global_batch_size=16",
    "--config.checkpoint.every_steps=0",
    "--config.export.saved_model=False",
    "--config.export.keras=False",
)


def _args(texts_dir) -> tuple[str, ...]:
    return (
        *RUN,
        f"--config.data.args.directory={texts_dir}",
        *(f"--config.data.args.{name}={value}" for name, value in FRACTIONS.items()),
    )


def _check(workdir, replicas: int, workers: int) -> None:
    results = read_results(workdir)
    assert (results["step"], results["replicas"], results["workers"]) == (60, replicas, workers)
    assert results["test"]["accuracy"] > 0.6  # Chance is 1/3; each text names its class.


def test_the_command_line_on_1_replica_and_2_replicas(texts_dir, tmp_path):
    assert_ok(train(*_args(texts_dir), f"--workdir={tmp_path / 'one'}"))
    _check(tmp_path / "one", 1, 1)
    assert_ok(
        train(
            *_args(texts_dir),
            "--strategy=mirrored",
            "--num_cpu_devices=2",
            f"--workdir={tmp_path / 'two'}",
        )
    )
    _check(tmp_path / "two", 2, 1)


@pytest.mark.slow
def test_the_command_line_on_2_workers_each_reading_its_own_files(texts_dir, tmp_path):
    workdir = tmp_path / "mwms"
    cluster = Cluster([workdir, workdir], *_args(texts_dir))
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    _check(workdir, 2, 2)
