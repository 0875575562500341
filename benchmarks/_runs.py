"""One training run through `trainer.main` in its own process, for the benchmark scripts."""

import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
