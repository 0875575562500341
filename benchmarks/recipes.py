"""Train the training-recipe configs to the end through `trainer.main` and check their targets.

    python benchmarks/recipes.py                          # both recipes
    python benchmarks/recipes.py --recipes=california_wide_deep_recipe --out=recipes.json

Each recipe runs in its own process, under MirroredStrategy with 2 replicas on 2 logical CPUs
(`--strategy`, `--num_cpu_devices`), in WORKDIR_ROOT/<recipe>; extra `--flag=value` arguments
after `--` go to every run. Prints a table (recipe, validation and test of the target's metric,
the target, whether the test result meets it, wall time) and writes the rows as JSON. The
recipes, what they change and what else was tried: benchmarks/README.md, "Training recipes".
"""

import argparse
import json
import os
import sys

from _runs import add_run_flags, train_to_results

# name: (experiment file, metric, relation, bound on the test result).
RECIPES = {
    "california_wide_deep_recipe": ("configs/california_wide_deep_recipe.py", "loss", "<=", 0.28),
    "my_project_recipe": ("examples/my_project/recipe.py", "accuracy", ">=", 0.985),
}
_COLUMNS = ("recipe", "validation", "test", "target", "met?", "wall s")
_WIDTHS = (28, 16, 16, 22, 4, 6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=",".join(RECIPES))
    add_run_flags(parser, workdir_root="/tmp/recipes")
    args = parser.parse_args()
    names = args.recipes.split(",")
    unknown = sorted(set(names) - set(RECIPES))
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}: use some of {', '.join(RECIPES)}.")
    _print_line(_COLUMNS)
    rows = []
    for name in names:
        rows.append(_run(name, args))
        _print_row(rows[-1])
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)
    return 0 if all(row["met"] for row in rows) else 1


def _run(name: str, args) -> dict:
    """Trains recipe `name` to the end of its schedule in WORKDIR_ROOT/<name>; returns its row."""
    path, metric, relation, bound = RECIPES[name]
    results, wall_s = train_to_results(path, os.path.join(args.workdir_root, name), args)
    test = results["test"][metric]
    return {
        "recipe": name,
        "config": path,
        "replicas": results["replicas"],
        "steps": results["step"],
        "metric": metric,
        "validation": results["validation"],
        "test": results["test"],
        "target": f"test {metric} {relation} {bound}",
        "met": bool(test <= bound if relation == "<=" else test >= bound),
        "wall_s": wall_s,
    }


def _print_row(row: dict) -> None:
    metric = row["metric"]
    _print_line(
        (
            row["recipe"],
            f"{metric} {row['validation'][metric]:.4f}",
            f"{metric} {row['test'][metric]:.4f}",
            row["target"],
            "yes" if row["met"] else "NO",
            f"{row['wall_s']:.1f}",
        )
    )


def _print_line(cells) -> None:
    print(
        "  ".join(f"{cell:<{width}}" for cell, width in zip(cells, _WIDTHS, strict=True)).rstrip(),
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
