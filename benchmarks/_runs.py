"""One training run through `trainer.main` in its own process, for the benchmark scripts."""

import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_run_flags(parser, *, workdir_root: str) -> None:
    """The flags every benchmark script takes: strategy, devices, workdirs, output, extra flags."""
    parser.add_argument("--strategy", default="mirrored")
    parser.add_argument("--num_cpu_devices", type=int, default=2)
    parser.add_argument("--workdir_root", default=workdir_root)
    parser.add_argument("--out", default="")
    parser.add_argument("extra", nargs="*", help="flags for every run, after --")


def train_to_results(config_path: str, workdir: str, args, flags=()) -> tuple[dict, float]:
    """Trains `config_path` (relative to the repo) in a new `workdir` under `args.strategy` and
    `args.num_cpu_devices`, with `flags` and `args.extra`; returns (results.json, wall seconds).
    Exits with the run's error when it fails."""
    if os.path.exists(workdir):
        sys.exit(f"error: {workdir} exists: remove it or pass another --workdir_root.")
    began = time.perf_counter()
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer.main",
            f"--config={config_path}",
            f"--strategy={args.strategy}",
            f"--num_cpu_devices={args.num_cpu_devices}",
            f"--workdir={workdir}",
            "--progress=quiet",
            *flags,
            *args.extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if process.returncode:
        print(process.stderr[-3000:], file=sys.stderr)
        sys.exit(f"error: {config_path} failed with exit {process.returncode}.")
    with open(os.path.join(workdir, "results.json")) as f:
        return json.load(f), round(time.perf_counter() - began, 1)
