"""Train a configured Keras model under any tf.distribute strategy.

    python -m trainer.main --config=configs/digits_mlp.py --strategy=mirrored --workdir=/tmp/run1 \
        --config.train.steps=500

Rerunning the same command on the same workdir resumes from its latest checkpoint. Bad input ends
the run with one `error: ...` line on stderr and exit code 2.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ INFO noise.

import logging as python_logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

import configs  # noqa: E402
from strategies import STRATEGY_NAMES, StrategyError, cluster_info, create_strategy  # noqa: E402
from trainer.errors import HarnessError  # noqa: E402

_STRATEGY = flags.DEFINE_enum("strategy", "auto", STRATEGY_NAMES, "tf.distribute strategy.")
_TPU = flags.DEFINE_string("tpu", None, "TPU name, grpc://host:port address, or `local`.")
_NUM_CPU_DEVICES = flags.DEFINE_integer(
    "num_cpu_devices", 0, "Split the CPU into N logical devices (N mirrored replicas, no GPU)."
)
_WORKDIR = flags.DEFINE_string(
    "workdir",
    None,
    "Checkpoints, summaries, exports and results (local or gs://). "
    "Default: $TMPDIR/trainer/<config name>.",
)
_PROGRESS = flags.DEFINE_enum(
    "progress",
    "line",
    ["line", "json", "quiet"],
    "Per host loop: a log line, a JSON object on stdout, or nothing.",
)
_BAD_CONFIG = (AttributeError, KeyError, OSError, TypeError, ValueError, SyntaxError)


def main(argv):
    if len(argv) > 1:
        _fail(f"unexpected arguments {' '.join(argv[1:])}: flags take the form --name=value.")
    _quiet_logs()
    config, config_path = _config()
    config_name = os.path.splitext(os.path.basename(config_path))[0]
    workdir = _WORKDIR.value or os.path.join(tempfile.gettempdir(), "trainer", config_name)
    try:
        if _is_evaluator():
            return _evaluate_checkpoints(config, workdir)
        # The strategy comes first: it must exist before any other TensorFlow op.
        choice = create_strategy(
            _STRATEGY.value, tpu=_TPU.value, num_cpu_devices=_NUM_CPU_DEVICES.value
        )
        from trainer.run import run_experiment  # Imports Keras, which must follow the strategy.

        results = run_experiment(
            config,
            choice=choice,
            workdir=workdir,
            config_name=config_name,
            progress=_PROGRESS.value,
        )
    except HarnessError as e:
        _fail(str(e), exit_code=e.exit_code)
    except StrategyError as e:
        _fail(str(e))
    logging.info(
        "Done at step %d: test %s. Results: %s/results.json",
        results["step"],
        ", ".join(f"{k} {v:.4f}" for k, v in results["test"].items()),
        workdir,
    )


def _is_evaluator() -> bool:
    try:
        return cluster_info().task_type == "evaluator"
    except ValueError as e:
        _fail(str(e))


def _evaluate_checkpoints(config, workdir: str) -> None:
    """The evaluator task: outside the training cluster, on one device."""
    choice = create_strategy("one_device", num_cpu_devices=_NUM_CPU_DEVICES.value)
    from trainer.evaluator import evaluate_checkpoints

    results = evaluate_checkpoints(config, choice=choice, workdir=workdir)
    logging.info("Evaluator done: evaluated steps %s.", results["steps"])


def _define_config_flag():
    # config_flags loads the default file and applies --config.* overrides as it defines the flag.
    try:
        config_flags.DEFINE_config_file(
            "config",
            configs.DEFAULT_CONFIG,
            "Experiment config file (a Python file with get_config()); override fields with "
            "--config.train.steps=500 and the like.",
            lock_config=True,
        )
    except _BAD_CONFIG as e:
        _fail(_config_error(e, configs.DEFAULT_CONFIG))


def _parse_flags(argv):
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        _fail(str(e))
    except _BAD_CONFIG as e:
        _fail(_config_error(e, _argv_config_path(argv)))


def _config():
    path = flags.FLAGS["config"].config_filename
    try:
        config = flags.FLAGS.config
        config.to_dict()  # config_flags loads lazily: load now, inside this try.
        return config, path
    except _BAD_CONFIG as e:
        _fail(_config_error(e, path))


def _config_error(error: Exception, path: str) -> str:
    text = " ".join(str(error).replace("\\n", " ").split()).strip("'\"")
    if "get_config" in text:
        return f"config file {path} does not define get_config(): add one that returns the config."
    if not os.path.isfile(path):
        return f"config file {path} does not exist: pass --config=PATH/TO/EXPERIMENT.py."
    if isinstance(error, (OSError, SyntaxError)):
        return f"cannot load config file {path}: {text}"
    return (
        f"bad config field in {path}: {text}. Every field and its type are in "
        "configs/base.py; a new field must be added there first."
    )


def _argv_config_path(argv) -> str:
    for arg in argv:
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return configs.DEFAULT_CONFIG


def _fail(message: str, exit_code: int = 2):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(exit_code)


def _quiet_logs():
    """Our lines, short; TensorFlow's own INFO chatter (collectives, savers) hidden."""
    python_logging.getLogger("tensorflow").setLevel(python_logging.WARNING)
    warnings.filterwarnings("ignore", message="To make it possible to preserve tf.data options")
    handler = logging.get_absl_handler()
    handler.setFormatter(
        python_logging.Formatter("%(asctime)s %(levelname).1s %(message)s", "%H:%M:%S")
    )
    handler.addFilter(_drop_library_info)


def _drop_library_info(record) -> bool:
    """Keeps warnings from anywhere, INFO only from the harness (not TensorFlow or Keras)."""
    path = record.pathname.replace(os.sep, "/")
    return record.levelno > python_logging.INFO or not (
        "/tensorflow/" in path or "/keras/" in path or "/tf_keras/" in path
    )


def run():
    _define_config_flag()
    app.run(main, flags_parser=_parse_flags)


if __name__ == "__main__":
    run()
