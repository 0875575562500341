"""TFRecord shards written by the prepare command, read back under several input pipelines."""

import os

import pytest

from tests.support.helpers import assert_ok, assert_one_line_error, read_results, run_module, train
from trainer.data.prepare import prepare
from trainer.data.sources import DigitsSource


def _digits():
    return DigitsSource(validation_examples=180, test_examples=360, split_seed=0)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("shards") / "digits")
    prepare(_digits(), out, num_shards=4, overwrite=False)
    return out


def _copy(shards, tmp_path):
    out = tmp_path / "copy"
    out.mkdir()
    for name in os.listdir(shards):
        (out / name).write_bytes((open(os.path.join(shards, name), "rb")).read())
    return out


def test_the_prepare_command_and_training_from_its_shards(tmp_path):
    out, workdir = str(tmp_path / "shards"), str(tmp_path / "run")
    prepared = run_module("trainer.prepare", f"--out={out}", "--num_shards=3")
    assert_ok(prepared)
    assert "Wrote 1797 examples and spec.json" in prepared.stderr
    assert "train: 1257 examples in 3 shards (" in prepared.stderr
    assert "All splits: 1797 examples (" in prepared.stderr and "MB/s" in prepared.stderr
    again = run_module("trainer.prepare", f"--out={out}")
    assert again.returncode == 2 and "pass --overwrite" in again.stderr
    assert_ok(
        train(
            "--strategy=mirrored",
            "--num_cpu_devices=2",
            f"--workdir={workdir}",
            "--config=configs/digits_tfrecord.py",
            f"--config.data.args.dir={out}",
            "--config.train.steps=600",
        )
    )
    assert read_results(workdir)["test"]["accuracy"] > 0.9


def test_a_shard_corrupt_inside_is_named_when_training_reads_it(shards, tmp_path):
    out = _copy(shards, tmp_path)
    shard = out / "train-00002-of-00004.tfrecord"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # Same size: only reading it can tell.
    shard.write_bytes(bytes(data))
    process = train(
        f"--workdir={tmp_path / 'run'}",
        "--config=configs/digits_tfrecord.py",
        f"--config.data.args.dir={out}",
        "--config.train.steps=200",
    )
    assert_one_line_error(process, f"{shard} is corrupt", "Prepare the data again")
