"""Run the two California housing sweeps at one budget and print what each found.

    python benchmarks/sweeps.py                        # random, then TPE with pruning, 30 trials
    python benchmarks/sweeps.py --trials=12 --sweeps=california_tpe --out=sweeps.json

Each sweep is `python -m trainer.sweep` with configs/california_mlp.py and
configs/sweeps/<sweep>.py in a fresh WORKDIR_ROOT/<sweep> (one process, trials one after
another). Prints a table (sweep, trials complete / pruned / failed, the best trial's validation
and test MSE, the wall time) and writes the rows as JSON. The housing table is the one the
config downloads and caches on its first run, or the copy --housing_csv=PATH names (offline).
Results: benchmarks/README.md, "Sweeps".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import optuna

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # Run as a script from anywhere: the harness's own modules.

from trainer.sweep import results  # noqa: E402
from trainer.sweep import study as studies  # noqa: E402

SWEEPS = ("california_random", "california_tpe")
BASE_CONFIG = "configs/california_mlp.py"
_COLUMNS = ("sweep", "complete", "pruned", "failed", "best val MSE", "its test MSE", "wall s")


def run_sweep(name: str, *, trials: int, workdir: str, housing_csv: str = "") -> dict:
    shutil.rmtree(workdir, ignore_errors=True)
    began = time.time()
    command = [
        sys.executable,
        "-m",
        "trainer.sweep",
        f"--config={BASE_CONFIG}",
        f"--sweep=configs/sweeps/{name}.py",
        f"--trials={trials}",
        f"--workdir={workdir}",
    ]
    if housing_csv:
        command.append(f"--config.data.args.path={os.path.abspath(housing_csv)}")
    subprocess.run(command, cwd=REPO, check=True)
    wall = time.time() - began
    storage = studies.open_storage(os.path.join(workdir, studies.JOURNAL_FILE))
    study = optuna.load_study(study_name=name, storage=storage)
    states = [t.state.name.lower() for t in study.trials]
    best = study.best_trial
    return {
        "sweep": name,
        "complete": states.count("complete"),
        "pruned": states.count("pruned"),
        "failed": states.count("fail"),
        "best_validation_mse": best.value,
        "best_test_mse": best.user_attrs.get(results.TEST_VALUE),
        "best_params": best.params,
        "wall_s": round(wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", default=",".join(SWEEPS))
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--workdir_root", default="/tmp/sweeps")
    parser.add_argument("--out", default="")
    parser.add_argument(
        "--housing_csv", default="", help="A copy of housing.csv (default: download and cache)."
    )
    args = parser.parse_args()
    names = args.sweeps.split(",")
    if set(names) - set(SWEEPS):
        parser.error(f"unknown sweep(s) {sorted(set(names) - set(SWEEPS))}: use {SWEEPS}.")
    rows = [
        run_sweep(
            name,
            trials=args.trials,
            workdir=os.path.join(args.workdir_root, name),
            housing_csv=args.housing_csv,
        )
        for name in names
    ]
    print("  ".join(f"{c:>13}" for c in _COLUMNS))
    for row in rows:
        cells = [row["sweep"], row["complete"], row["pruned"], row["failed"]]
        cells += [f"{row['best_validation_mse']:.4f}", f"{row['best_test_mse']:.4f}"]
        print("  ".join(f"{str(c):>13}" for c in [*cells, row["wall_s"]]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
