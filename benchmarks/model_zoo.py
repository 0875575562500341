"""Train zoo configs to the end through `trainer.main` and print their test results.

    python benchmarks/model_zoo.py                       # the default configs and targets
    python benchmarks/model_zoo.py --configs=california_wide_deep,digits_siamese --out=zoo.json
    python benchmarks/model_zoo.py --early_stopping=3   # each config to the end and stopped early

Each config runs in its own process, under MirroredStrategy with 2 replicas on 2 logical CPUs
(`--strategy`, `--num_cpu_devices`), in WORKDIR_ROOT/<config>; extra `--flag=value` arguments
after `--` go to every run. Prints one table row per config and writes the rows as JSON.

With `--early_stopping=PATIENCE` each config runs twice with an evaluation every 1/20 of its
steps: once to the end, once with early stopping on the validation loss after PATIENCE
evaluations without improvement; the row gives the step where it stopped and both test results.
"""

import argparse
import importlib
import json
import os
import sys

from _runs import REPO, add_run_flags, train_to_results

# The default configs (no tensorflow-datasets download) and the test results they must reach.
DEFAULT_CONFIGS = (
    "california_wide_deep",
    "california_wide_deep_subclassed",
    "california_wide_deep_two_inputs",
    "california_wide_deep_two_outputs",
    "california_mlp",
    "digits_mlp",
    "digits_siamese",
)
TARGETS = {"california": ("loss", "<=", 0.30), "digits_mlp": ("accuracy", ">=", 0.97)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS))
    parser.add_argument("--early_stopping", type=int, default=0, help="patience; 0: off")
    add_run_flags(parser, workdir_root="/tmp/model_zoo")
    args = parser.parse_args()
    rows = []
    for config in args.configs.split(","):
        if not args.early_stopping:
            rows.append(_train(config, args, os.path.join(args.workdir_root, config)))
            _print_row(rows[-1])
            continue
        every = ["--config.eval.every_steps=" + str(max(_steps(config) // 20, 1))]
        full = _train(config, args, os.path.join(args.workdir_root, config), every)
        stopping = every + [
            "--config.early_stopping.monitor=loss",
            f"--config.early_stopping.patience={args.early_stopping}",
        ]
        early = _train(config, args, os.path.join(args.workdir_root, config + "-early"), stopping)
        rows.append({"config": config, "to_the_end": full, "early_stopping": early})
        _print_comparison(config, full, early)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


def _train(config: str, args, workdir: str, more=()) -> dict:
    results, wall_s = train_to_results(f"configs/{config}.py", workdir, args, more)
    return {
        "config": config,
        "replicas": results["replicas"],
        "steps": results["step"],
        "test": results["test"],
        "validation": results["validation"],
        "examples_per_sec": results["examples_per_sec"],
        "wall_s": wall_s,
        "target": _target(config, results["test"]),
        "early_stopping": results.get("early_stopping"),
    }


def _steps(config: str) -> int:
    sys.path.insert(0, REPO)
    return importlib.import_module(f"configs.{config}").get_config().train.steps


def _print_comparison(config: str, full: dict, early: dict) -> None:
    def shown(test):
        return ", ".join(f"{k} {v:.4f}" for k, v in sorted(test.items()))

    stopped = early["early_stopping"] or {}
    where = f"stopped at {early['steps']:>5}" if stopped.get("stopped") else "ran to the end"
    print(
        f"{config:<36} {where} of {full['steps']:>5} steps ({early['wall_s']} s vs "
        f"{full['wall_s']} s)  test early: {shown(early['test'])}  to the end: "
        f"{shown(full['test'])}",
        flush=True,
    )


def _target(config: str, test: dict) -> str:
    for prefix, (metric, relation, bound) in TARGETS.items():
        if config.startswith(prefix):
            value = test.get(f"main_{metric}", test.get(metric))  # A model's main output.
            met = value <= bound if relation == "<=" else value >= bound
            return f"test {metric} {relation} {bound}: {'met' if met else 'NOT met'}"
    return ""


def _print_row(row: dict) -> None:
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in sorted(row["test"].items()))
    print(
        f"{row['config']:<36} {row['replicas']} replicas {row['steps']:>6} steps  "
        f"test: {metrics}  ({row['examples_per_sec'] or 0:,.0f} ex/s, {row['wall_s']} s)  "
        f"{row['target']}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
