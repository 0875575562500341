"""Labels against the model's outputs and the loss: one line per mismatch, before training."""

from tests.support.helpers import assert_one_line_error, train


def test_a_regression_csv_with_a_classification_loss_fails_in_one_line_before_training(
    tmp_path,
):
    """The user's first try: 0/1 labels read as a target, a 1-unit head, sparse cross-entropy."""
    path = tmp_path / "table.csv"
    rows = [f"{i % 7},{(i * 3) % 11},{int(i % 3 == 0)}" for i in range(61)]
    path.write_text("a,b,target\n" + "\n".join(rows) + "\n")
    process = train(
        "--config=configs/csv_classifier.py",
        f"--config.data.args.path={path}",
        "--config.data.args.label=target",
        "--config.data.args.task=regression",
        f"--workdir={tmp_path / 'run'}",
    )
    assert_one_line_error(
        process, "labels 0..1 (integers)", "shape (None, 1)", "config.data.args.task"
    )
    assert "Traceback" not in process.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
