"""`python -m trainer.main` switching plug-ins from the command line, and its --help and
--config_help pages, in real processes."""

import json
import os

import numpy as np

from tests.support.helpers import assert_ok, assert_one_line_error, read_results, train

QUICK = ("--config.train.steps=30", "--config.eval.every_steps=0", "--progress=quiet")


def _write_table(path, rows: int = 203) -> None:
    """A CSV whose label y is whether a + b > 0 (203 rows: no batch or replica count divides
    them)."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(rows, 3))
    with open(path, "w") as f:
        f.write("a,b,c,y\n")
        for a, b, c in features:
            f.write(f"{a:.4f},{b:.4f},{c:.4f},{int(a + b > 0)}\n")


def _saved_config(workdir) -> dict:
    with open(os.path.join(workdir, "config.json")) as f:
        return json.load(f)


def test_switching_to_the_csv_source_trains_on_the_users_table(tmp_path, workdir):
    table = tmp_path / "my.csv"
    _write_table(table)
    process = train(
        "--config.data.source=csv",
        f"--config.data.args.path={table}",
        "--config.data.args.label=y",
        "--config.train.global_batch_size=32",  # The train split is 114 rows of the 203.
        *QUICK,
        f"--workdir={workdir}",
    )
    assert_ok(process)
    assert read_results(workdir)["step"] == 30
    data = _saved_config(workdir)["data"]
    assert data["source"] == "csv" and data["args"]["path"] == str(table)
    assert data["args"]["label"] == "y" and data["args"]["task"] == "auto"


def test_switching_the_model_trains_it_with_its_own_arguments(workdir):
    process = train(
        "--config.model.name",  # The space-separated form.
        "deep_selu",
        "--config.model.args.depth=2",
        "--config.model.args.units=16",
        *QUICK,
        f"--workdir={workdir}",
    )
    assert_ok(process)
    model = _saved_config(workdir)["model"]
    assert model["name"] == "deep_selu"
    assert model["args"] == {"alpha_dropout": 0.5, "batch_norm": True, "depth": 2, "units": 16}


def test_an_argument_of_the_old_model_is_one_line_naming_the_new_ones(workdir):
    process = train(
        "--config.model.name=deep_selu",
        "--config.model.args.hidden_units=(8,)",
        f"--workdir={workdir}",
    )
    assert_one_line_error(
        process,
        "--config.model.args.hidden_units: model 'deep_selu' (from --config.model.name",
        "its arguments are alpha_dropout, batch_norm, depth, units",
    )
    assert process.stderr.strip().count("\n") == 0, process.stderr  # Nothing but that line.
    assert not os.path.exists(workdir)


def test_help_shows_the_harness_flags_config_first_and_the_plug_ins():
    process = train("--help")
    assert_ok(process)
    text = process.stdout
    flag_lines = [line.strip() for line in text.splitlines() if line.startswith("  --")]
    assert flag_lines[0] == "--config=FILE"
    assert flag_lines.index("--config.model.name=NAME") < flag_lines.index("--workdir=DIR")
    assert {
        "--config_help",
        "--strategy=auto|default|one_device|mirrored|multi_worker_mirrored|tpu",
        "--num_cpu_devices=N",
    } <= set(flag_lines)
    assert len(text.splitlines()) < 70  # Not absl's libraries' flags (pdb, TPU tracing, ...).
    assert "pdb" not in text
    # The usage example keeps its line break.
    assert "--workdir=/tmp/run1 \\\n        --config.train.steps=500" in text
    models = next(line for line in text.splitlines() if line.startswith("models "))
    assert "deep_selu, mlp, siamese" in models
    assert "csv, digit_pairs, digits" in text.replace("\n  ", " ")
    assert "--helpfull" in text


def test_config_help_prints_the_loaded_config_field_by_field(tmp_path):
    process = train(
        "--config=configs/csv_classifier.py",
        "--config.train.steps=7",
        "--config_help",
        env={"TMPDIR": str(tmp_path)},
    )
    assert_ok(process)
    lines = process.stdout.splitlines()
    assert (
        lines[0] == "# configs/csv_classifier.py with the command line's overrides, field by field."
    )
    assert (
        "train.steps = 7  # Total optimizer steps; a resumed run stops at exactly this. "
        "(default: 2000)"
    ) in lines
    assert "data.args.label = 'label'  # An argument of data source 'csv'" in lines
    assert (
        "model.args.hidden_units = (64, 32)  # An argument of model 'mlp' "
        "(default: (300, 100))" in lines
    )
    assert not os.path.exists(tmp_path / "trainer")  # Printed; no run, no workdir.
