"""Train a configured Keras model under any tf.distribute strategy.

    python -m trainer.main --config=configs/digits_mlp.py --strategy=mirrored --workdir=/tmp/run1 \
        --config.train.steps=500

Rerunning the same command on the same workdir resumes from its latest checkpoint.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ info noise.

import sys  # noqa: E402
import tempfile  # noqa: E402

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

import configs  # noqa: E402
from strategies import STRATEGY_NAMES, StrategyError, create_strategy  # noqa: E402
from trainer.errors import HarnessError  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", configs.DEFAULT_CONFIG, "Experiment config file (a Python file with get_config()).",
    lock_config=True)
_STRATEGY = flags.DEFINE_enum("strategy", "auto", STRATEGY_NAMES, "tf.distribute strategy.")
_TPU = flags.DEFINE_string("tpu", None, "TPU name, grpc://host:port address, or `local`.")
_NUM_CPU_DEVICES = flags.DEFINE_integer(
    "num_cpu_devices", 0, "Split the CPU into N logical devices (N mirrored replicas, no GPU).")
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Checkpoints, summaries, exports and results (local or gs://). "
    "Default: $TMPDIR/trainer/<config name>.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    config_name = os.path.splitext(os.path.basename(_config_path()))[0]
    workdir = _WORKDIR.value or os.path.join(tempfile.gettempdir(), "trainer", config_name)
    try:
        # The strategy comes first: it must exist before any other TensorFlow op.
        choice = create_strategy(_STRATEGY.value, tpu=_TPU.value,
                                 num_cpu_devices=_NUM_CPU_DEVICES.value)
        from trainer.run import run_experiment  # Imports Keras, which must follow the strategy.

        results = run_experiment(_CONFIG.value, choice=choice, workdir=workdir,
                                 config_name=config_name)
    except (HarnessError, StrategyError) as e:
        logging.error("%s", e)
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
    logging.info("Done: step %d, test %s. Results in %s/results.json.",
                 results["step"], results["test"], workdir)


def _config_path() -> str:
    return flags.FLAGS["config"].config_filename


if __name__ == "__main__":
    app.run(main)
