"""Learning curves drawn from a run's own TensorBoard event files.

    python -m trainer.report WORKDIR [WORKDIR ...] --out=curves.png

One panel per metric (loss, accuracy, ...), train as a line and evaluation as dots, for each run.
Every training run also draws its own WORKDIR/learning_curves.png at the end.
"""

import io
import os

import matplotlib

matplotlib.use("Agg")  # No display needed.

import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from trainer.errors import HarnessError  # noqa: E402

KINDS = ("train", "eval")  # Subdirectories of a workdir that hold event files.
_NOT_CURVES = ("examples_per_sec", "learning_rate")

Scalars = dict[str, dict[str, list[tuple[int, float]]]]  # kind -> tag -> [(step, value)]


def read_event_dir(directory: str) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of one TensorBoard event directory, as {tag: [(step, value), ...]}."""
    from tensorboard.backend.event_processing import event_accumulator

    accumulator = event_accumulator.EventAccumulator(
        str(directory), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return {
        tag: sorted(
            (e.step, float(tf.make_ndarray(e.tensor_proto).item()))
            for e in accumulator.Tensors(tag)
        )
        for tag in accumulator.Tags()["tensors"]
    }


def read_scalars(workdir: str) -> Scalars:
    """Every scalar under WORKDIR/train and WORKDIR/eval; HarnessError if there are none."""
    scalars: Scalars = {}
    for kind in KINDS:
        directory = f"{workdir.rstrip('/')}/{kind}"
        if tf.io.gfile.isdir(directory) and (points := read_event_dir(directory)):
            scalars[kind] = points
    if not scalars:
        raise HarnessError(
            f"No TensorBoard event files under {workdir}/train or {workdir}/eval: pass the "
            "--workdir of a training run (it writes them as it trains)."
        )
    return scalars


def draw(runs: dict[str, Scalars], out_path: str) -> str:
    """Draws the runs ({label: scalars}) into a PNG at `out_path` (local or gs://)."""
    metrics = sorted(
        {
            tag
            for scalars in runs.values()
            for kind in scalars.values()
            for tag in kind
            if tag not in _NOT_CURVES
        },
        key=lambda t: (t != "loss", t),
    )
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for panel, metric in zip(axes[0], metrics, strict=True):
        for i, (label, scalars) in enumerate(runs.items()):
            color = colors[i % len(colors)]
            prefix = f"{label} " if len(runs) > 1 else ""
            if points := scalars.get("train", {}).get(metric):
                panel.plot(*zip(*points, strict=True), color=color, label=f"{prefix}train")
            if points := scalars.get("eval", {}).get(metric):
                panel.plot(
                    *zip(*points, strict=True),
                    "o--",
                    color=color,
                    alpha=0.7,
                    label=f"{prefix}validation",
                )
        panel.set_title(metric)
        panel.set_xlabel("step")
        panel.grid(alpha=0.3)
        if metric == "loss":
            panel.set_yscale("log")
        panel.legend(fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    with tf.io.gfile.GFile(out_path, "wb") as f:
        f.write(buffer.getvalue())
    return out_path


def draw_run(workdir: str) -> str:
    """WORKDIR/learning_curves.png from the run's own event files."""
    return draw(
        {os.path.basename(workdir.rstrip("/")): read_scalars(workdir)},
        f"{workdir.rstrip('/')}/learning_curves.png",
    )


def main(argv):
    workdirs = argv[1:]
    if not workdirs:
        raise app.UsageError("Name at least one workdir: python -m trainer.report DIR [DIR ...]")
    try:
        runs = {os.path.basename(d.rstrip("/")) or d: read_scalars(d) for d in workdirs}
    except HarnessError as e:
        print(f"error: {e}", flush=True)
        raise SystemExit(2) from e
    print(draw(runs, flags.FLAGS.out))


def run() -> None:
    """python -m trainer.report (console script trainer-report)."""
    flags.DEFINE_string("out", "learning_curves.png", "The PNG to write (local or gs://).")
    app.run(main)


if __name__ == "__main__":
    run()
