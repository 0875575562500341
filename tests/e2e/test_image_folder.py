"""Images in class folders: scikit-learn's digits written as PNG files, read back, split, sharded
across input pipelines and trained on under 1 replica, 2 replicas and 2 workers."""

import pytest

from examples.my_project.write_images import write_digits
from tests.support.helpers import Cluster, assert_ok, read_results, train

COUNT = 400

# 49 validation, 71 test and 280 train images: none divides by the batches or by 2 replicas
# except train by 2 (and 280 is not a multiple of the training batch of 48).
FRACTIONS = dict(validation_fraction=0.1225, test_fraction=0.1775)


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("images") / "digits")
    write_digits(root, COUNT)
    return root


RUN = (
    "--config=examples/my_project/image_folder.py",
    "--progress=quiet",
    "--config.train.steps=120",
    "--config.train.steps_per_loop=40",
    "--config.train.global_batch_size=48",
    "--config.eval.every_steps=0",
    "--config.eval.global_batch_size=16",
    "--config.checkpoint.every_steps=0",
    "--config.export.saved_model=False",
    "--config.export.keras=False",
    f"--config.data.args.validation_fraction={FRACTIONS['validation_fraction']}",
    f"--config.data.args.test_fraction={FRACTIONS['test_fraction']}",
)


def _check(workdir, replicas: int, workers: int) -> None:
    results = read_results(workdir)
    assert (results["step"], results["replicas"], results["workers"]) == (120, replicas, workers)
    assert results["test"]["accuracy"] > 0.3  # Chance is 0.1.


def test_the_command_line_on_1_replica_and_2_replicas_with_augmentation(digits_dir, tmp_path):
    data = f"--config.data.args.directory={digits_dir}"
    assert_ok(train(*RUN, data, f"--workdir={tmp_path / 'one'}"))
    _check(tmp_path / "one", 1, 1)
    shift = "{'height_factor': 0.1, 'width_factor': 0.1}"
    augment = f"--config.data.args.augment=(('RandomTranslation', {shift}),)"
    assert_ok(
        train(
            *RUN,
            data,
            augment,
            "--strategy=mirrored",
            "--num_cpu_devices=2",
            f"--workdir={tmp_path / 'two'}",
        )
    )
    _check(tmp_path / "two", 2, 1)


@pytest.mark.slow
def test_the_command_line_on_2_workers_each_reading_its_own_files(digits_dir, tmp_path):
    workdir = tmp_path / "mwms"
    cluster = Cluster([workdir, workdir], *RUN, f"--config.data.args.directory={digits_dir}")
    assert cluster.wait(timeout=300) == [0, 0], "".join(cluster.lines[0][-30:])
    _check(workdir, 2, 2)


def test_a_file_that_does_not_decode_is_named_in_one_line(digits_dir, tmp_path):
    import shutil

    from tests.support.helpers import assert_one_line_error

    folder = str(tmp_path / "digits")
    shutil.copytree(digits_dir, folder)
    with open(f"{folder}/3/broken.png", "w") as f:
        f.write("not an image")
    process = train(
        "--config=examples/my_project/image_folder.py",
        f"--config.data.args.directory={folder}",
        "--config.train.steps=20",
        f"--workdir={tmp_path / 'run'}",
    )
    assert_one_line_error(process, f"{folder}/3/broken.png does not decode", "Unknown image")
