"""Print an installed distribution's requirements, one per line, for `pip install -r`.

    python3 -m launch.requirements --exclude=tensorflow > requirements.txt

Why it exists: on a Cloud TPU VM TensorFlow comes from the `tensorflow-tpu` wheel, which installs
the same `tensorflow` package directory as CPU `tensorflow` under another distribution name. A
plain `pip install .` would pull CPU TensorFlow over it. launch/tpu_vm.sh therefore installs the
project with `--no-deps`, asks this module for the project's requirements minus `tensorflow`, and
installs those together with `tensorflow-tpu` in one pip call, so one resolver sees every
constraint (e.g. tensorflow-tpu's `tensorboard~=2.20.0` and ours).

It reads the installed metadata (importlib.metadata), not pyproject.toml: TPU VMs run Python 3.10,
which has no tomllib. Standard library only (plus pip's own copy of `packaging` when `packaging`
is not installed): it runs before any of the project's dependencies are.
"""

import argparse
import importlib.metadata
import re
import sys

try:
    from packaging.requirements import Requirement
except ImportError:  # A bare Ubuntu python3 has pip but not always packaging.
    from pip._vendor.packaging.requirements import Requirement

PROJECT = "keras-distribute-trainer"
BAD_INPUT_EXIT_CODE = 2


class RequirementsError(ValueError):
    """A distribution, extra or exclusion that does not exist: the message says what does."""


def canonical(name: str) -> str:
    """PEP 503 name: `Tensorflow_TPU` and `tensorflow-tpu` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(
    distribution: str = PROJECT, *, exclude=(), extras=(), environment=None
) -> list[str]:
    """`distribution`'s requirements that apply here (markers evaluated for this interpreter and
    the chosen `extras`), without those named in `exclude`, each as a pip requirement line
    without its marker."""
    try:
        declared = importlib.metadata.requires(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise RequirementsError(
            f"{distribution} is not installed: install it first (pip install --no-deps .)"
        ) from None
    parsed = [Requirement(line) for line in declared or ()]
    known_extras = sorted(importlib.metadata.metadata(distribution).get_all("Provides-Extra") or ())
    unknown = sorted(set(extras) - set(known_extras))
    if unknown:
        raise RequirementsError(
            f"{distribution} has no extra {', '.join(unknown)} (its extras: "
            f"{', '.join(known_extras) or 'none'})"
        )

    def applies(requirement) -> bool:
        if requirement.marker is None:
            return True
        return any(
            requirement.marker.evaluate({**(environment or {}), "extra": extra})
            for extra in ("", *extras)
        )

    selected = [r for r in parsed if applies(r)]
    names = {canonical(r.name) for r in selected}
    excluded = {canonical(name) for name in exclude}
    if excluded - names:
        raise RequirementsError(
            f"--exclude={','.join(sorted(excluded - names))} names no requirement of "
            f"{distribution} (they are: {', '.join(sorted(names))})"
        )
    lines = []
    for requirement in selected:
        if canonical(requirement.name) in excluded:
            continue
        requirement.marker = None  # Evaluated above; an `extra ==` marker would hide it from -r.
        lines.append(str(requirement))
    return lines


def _comma_list(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distribution", default=PROJECT, help="installed distribution to read")
    parser.add_argument(
        "--exclude", action="append", default=[], help="requirement names to leave out (a,b)"
    )
    parser.add_argument(
        "--extras", action="append", default=[], help="extras whose requirements to add (a,b)"
    )
    args = parser.parse_args(argv)
    try:
        lines = requirements(
            args.distribution, exclude=_comma_list(args.exclude), extras=_comma_list(args.extras)
        )
    except RequirementsError as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT_EXIT_CODE
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
