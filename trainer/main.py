r"""Train a configured Keras model under any tf.distribute strategy.

    python -m trainer.main --config=configs/digits_mlp.py --strategy=mirrored --workdir=/tmp/run1 \
        --config.train.steps=500

Rerunning the same command on the same workdir resumes from its latest checkpoint. Bad input ends
the run with one `error: ...` line on stderr and exit code 2 (see trainer/errors.py for others).
`--config_help` prints the config's fields with their values and meanings.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ INFO noise.

from trainer.cli import startup  # noqa: E402  (standard library only)

# TensorFlow's native start-up lines (oneDNN, CUDA probing) are hidden until the strategy
# exists; --verbose shows them. Read from argv: absl parses flags after TensorFlow has loaded.
_NATIVE_STARTUP = startup.quiet_native_startup(verbose=startup.verbose_requested(sys.argv))

from trainer.cloud.preemption import TerminationWatcher  # noqa: E402  (no TensorFlow)

# SIGTERM from here until training starts exits 42 at once (nothing to save yet); after that
# every worker saves first (trainer/cloud/preemption.py). Started before TensorFlow loads: its
# import takes seconds, and a SIGTERM then would otherwise kill the run with 143, which a Job
# counts. Only as a command (`python -m trainer.main`, the console script `trainer`), not when a
# test imports this module.
_RUN_AS_COMMAND = __name__ == "__main__" or os.path.basename(sys.argv[0]) == "trainer"
_WATCHER = TerminationWatcher().start() if _RUN_AS_COMMAND else None

import tempfile  # noqa: E402

from absl import app, flags, logging  # noqa: E402

import configs  # noqa: E402
from configs import base  # noqa: E402
from strategies import STRATEGY_NAMES, StrategyError, cluster_info, create_strategy  # noqa: E402
from trainer.cli import usage  # noqa: E402
from trainer.cli.config_flag import (  # noqa: E402
    CONFIG_FLAG_HELP,
    define_config_flag,
    load_config,
    parse_flags,
)
from trainer.cli.console import fail, quiet_logs  # noqa: E402
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
_VERBOSE = flags.DEFINE_boolean(
    "verbose", False, "Show TensorFlow's native start-up lines (oneDNN, CUDA probing)."
)
_PROGRESS = flags.DEFINE_enum(
    "progress",
    "line",
    ["line", "json", "quiet"],
    "Per host loop: a log line, a JSON object on stdout, or nothing.",
)
_CONFIG_HELP = flags.DEFINE_boolean(
    "config_help",
    False,
    "Print the config (--config with the overrides) field by field, then exit: each value, "
    "its meaning from configs/base.py and, where it differs, the default.",
)
# --help shows these after the --config flags, in this order, with what each value is.
_OWN_FLAGS = (
    (_CONFIG_HELP, ""),
    (_STRATEGY, ""),
    (_TPU, "NAME"),
    (_NUM_CPU_DEVICES, "N"),
    (_WORKDIR, "DIR"),
    (_PROGRESS, ""),
    (_VERBOSE, ""),
)


def main(argv):
    if len(argv) > 1:
        fail(f"unexpected arguments {' '.join(argv[1:])}: flags take the form --name=value.")
    if _CONFIG_HELP.value:
        return _print_config_fields()
    quiet_logs()
    watcher = _WATCHER or TerminationWatcher().start()
    config, config_path = load_config()
    config_name = os.path.splitext(os.path.basename(config_path))[0]
    workdir = _WORKDIR.value or os.path.join(tempfile.gettempdir(), "trainer", config_name)
    try:
        if _is_evaluator():
            return _evaluate_checkpoints(config, workdir)
        # The strategy comes first: it must exist before any other TensorFlow op.
        strategy_choice = create_strategy(
            _STRATEGY.value, tpu=_TPU.value, num_cpu_devices=_NUM_CPU_DEVICES.value
        )
        watcher.take_back_sigterm()  # From the coordination service (see take_back_sigterm).
        _count_this_start(workdir)
        _NATIVE_STARTUP.release()
        from trainer.run.training import (
            run_experiment,  # Imports Keras, which must follow the strategy.
        )

        results = run_experiment(
            config,
            strategy_choice=strategy_choice,
            workdir=workdir,
            config_name=config_name,
            progress=_PROGRESS.value,
            watcher=watcher,
        )
    except HarnessError as e:
        fail(str(e), exit_code=e.exit_code)
    except StrategyError as e:
        fail(str(e))
    from trainer.cli.formatting import format_metrics

    logging.info(
        "Done at step %d: test %s. Results: %s/results.json",
        results["step"],
        format_metrics(results["test"]),
        workdir,
    )


def _count_this_start(workdir: str) -> None:
    """Under $TRAINER_RESTART_BUDGET (TFJob's manifests), the chief records its start in the
    workdir and refuses one restart too many (trainer/workdir/restarts.py). Only the chief:
    it restarts in every round, while another worker may restart alone."""
    from trainer.workdir.restarts import record_start, restart_budget

    budget = restart_budget(os.environ)
    if budget is not None and cluster_info().is_chief:
        starts = record_start(workdir, budget)
        logging.info(
            "Start %d of at most %d (restart budget %d), counted in %s.",
            len(starts),
            budget + 1,
            budget,
            workdir,
        )


def _is_evaluator() -> bool:
    try:
        return cluster_info().task_type == "evaluator"
    except ValueError as e:
        fail(str(e))


def _evaluate_checkpoints(config, workdir: str) -> None:
    """The evaluator task: outside the training cluster, on one device."""
    strategy_choice = create_strategy("one_device", num_cpu_devices=_NUM_CPU_DEVICES.value)
    _NATIVE_STARTUP.release()
    from trainer.run.evaluator import evaluate_checkpoints

    results = evaluate_checkpoints(config, strategy_choice=strategy_choice, workdir=workdir)
    logging.info("Evaluator done: evaluated steps %s.", results["steps"])


def _print_config_fields() -> None:
    """--config_help: the loaded config as one line per field (unset arguments included)."""
    config, config_path = load_config(require_plugin_arguments=False)
    try:  # The same plug-ins' defaults, to show what the experiment and the flags changed.
        defaults = base.get_config(model=config.model.name, data=config.data.source)
    except (AttributeError, KeyError):  # A config not built on configs/base.py.
        defaults = None
    print(
        f"# {config_path} with the command line's overrides, field by field.\n"
        "# Meanings: configs/base.py (a plug-in's arguments: its docstring). "
        "Set one: --config.FIELD=VALUE.\n"
    )
    print(usage.config_fields_text(config, comments=base.field_comments(), defaults=defaults))


def _help_text() -> str:
    """--help: this command's flags, --config first, and the plug-ins it knows by name."""
    from trainer.data import SOURCES
    from trainer.models import MODELS

    default = os.path.relpath(configs.DEFAULT_CONFIG)
    config_entries = [
        (syntax, f"{text} Default: {default}." if syntax == "--config=FILE" else text)
        for syntax, text in CONFIG_FLAG_HELP
    ]
    own_entries = [
        usage.flag_entry(flags.FLAGS[holder.name], metavar) for holder, metavar in _OWN_FLAGS
    ]
    return usage.help_text(
        __doc__,
        config_entries + own_entries,
        (
            f"models (--config.model.name): {', '.join(MODELS.names())}.",
            f"data sources (--config.data.source): {', '.join(SOURCES.names())}.",
            "Your own model or data source: its import path, 'package.module:callable'. Its "
            "arguments are config.model.args / config.data.args; --config_help lists them with "
            "every other field of the config.",
            "--helpfull lists every flag, the libraries' too.",
        ),
    )


def _parse_flags_or_help(argv):
    """absl's flags parser, but --help (-h, --helpshort) prints this command's own page."""
    if usage.help_requested(argv):
        print(_help_text())
        sys.exit(0)
    return parse_flags(argv)


def run():
    define_config_flag(switch_plugin=base.switch_plugin)
    app.run(main, flags_parser=_parse_flags_or_help)


if __name__ == "__main__":
    run()
