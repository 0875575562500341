"""The README's and the guides' code blocks, checked without running them: every command names a
program, module, script, config file and pip extra that exist, every marker is well formed, and
every Python block compiles. tests/e2e/test_docs.py runs them."""

import ast
import pathlib
import re
from importlib import metadata

import pytest

from tests.support import doc_blocks
from tests.support.helpers import REPO as _REPO

REPO = pathlib.Path(_REPO)

BLOCKS = doc_blocks.blocks()
SHELL = [b for b in BLOCKS if b.lang in ("bash", "sh", "console")]
PYTHON = [b for b in BLOCKS if b.lang == "python"]
# Programs of other projects the docs show; their flags are theirs to check.
EXTERNAL = {"docker", "kubectl", "gcloud", "tensorboard", "optuna-dashboard", "mkdocs", "ruff"}
SETUP = {".", "source", "python3 -m venv"}  # Making and entering a virtual environment.


def _ids(block):
    return block.name


def test_the_documents_have_blocks_of_every_kind():
    assert len(SHELL) >= 20 and len(PYTHON) >= 3
    assert {b.mode for b in SHELL} == {"run", "parse"}
    languages = {b.lang for b in BLOCKS}
    assert languages <= {"bash", "python", "text", "yaml", "json", ""}, languages


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.mode == "parse"], ids=_ids)
def test_a_block_that_is_not_run_says_why(block):
    assert len(block.marker.split()) >= 2, f"{block.name}: say what it needs, e.g. 'needs a GPU'"


@pytest.mark.parametrize("block", SHELL, ids=_ids)
def test_every_command_names_what_exists(block):
    for command in doc_blocks.commands(block):
        problem = _missing(command)
        assert problem is None, f"{block.name}: {command.text}\n  {problem}"


@pytest.mark.parametrize("block", [b for b in SHELL if b.marked_modules()], ids=_ids)
def test_a_marker_names_modules_its_block_runs(block):
    shown = {c.module for c in doc_blocks.commands(block)}
    assert block.marked_modules() <= shown, (
        f"{block.name}: the marker names {block.marked_modules()}"
    )


def test_every_marker_sits_on_the_line_before_a_fence():
    """A misspelt or misplaced marker would leave its block to the default: run."""
    for path in doc_blocks.DOCUMENTS:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not line.lstrip().startswith("<!-- test"):
                continue
            where = f"{path.relative_to(REPO)}:{i + 1}"
            assert doc_blocks._MARKER.match(line), (
                f"{where}: not 'test: run ...' or 'test: parse: ...'"
            )
            assert i + 1 < len(lines) and doc_blocks._FENCE.match(lines[i + 1]), (
                f"{where}: a marker goes on the line right before its block's fence"
            )


@pytest.mark.parametrize("block", PYTHON, ids=_ids)
def test_python_blocks_compile(block):
    ast.parse(block.text, filename=block.name)


def _missing(command: doc_blocks.Command) -> str | None:
    """Why the command cannot run as shown, or None."""
    program = command.argv[0]
    if program in EXTERNAL or re.match(r"^\w+=", program):
        return None
    if program in SETUP or " ".join(command.argv[:3]) in SETUP:
        return None
    if program == "pip":
        return _missing_extras(command.argv)
    if program in ("python", "python3"):
        return _missing_python(command)
    if program.startswith(("launch/", "benchmarks/")):
        return None if (REPO / program).is_file() else f"no script {program}"
    return (
        f"unknown program {program!r}: add it to EXTERNAL in this test if it is another project's"
    )


def _missing_python(command: doc_blocks.Command) -> str | None:
    module = command.module
    if command.argv[1] != "-m":
        return None if (REPO / module).is_file() else f"no script {module}"
    if module == "pytest":
        absent = [a for a in command.args if not a.startswith("-") and not (REPO / a).exists()]
        return f"no test path {absent}" if absent else None
    path = REPO / module.replace(".", "/")
    if not (path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()):
        return f"no module {module}"
    for flag in ("--config", "--sweep"):
        for arg in command.args:
            if arg.startswith(flag + "=") and not (REPO / arg.split("=", 1)[1]).is_file():
                if "WORKDIR" not in arg:
                    return f"no file {arg.split('=', 1)[1]}"
    return None


def _missing_extras(argv: list[str]) -> str | None:
    # The installed project's extras (tomllib would need Python 3.11).
    extras = set(metadata.metadata("keras-distribute-trainer").get_all("Provides-Extra") or ())
    for arg in argv:
        match = re.fullmatch(r"\.\[([\w,-]+)\]", arg)
        if match and not set(match.group(1).split(",")) <= extras:
            return f"pyproject.toml has no extra {match.group(1)} (it has {sorted(extras)})"
    return None


def test_the_collector_reads_markers_and_joins_lines(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- test: run trainer.main: --config.train.steps=5 ; trainer.bench: --steps=2 -->\n"
        "```bash\n"
        "python -m trainer.main --workdir=/tmp/a \\\n    --config.seed=1   # a comment\n"
        "python -m trainer.bench | tee out.txt\n"
        "```\n\n"
        "  <!-- test: parse: needs a GPU -->\n  ```bash\n  nvidia-smi && echo ok\n  ```\n"
        "```text\nstep 1/2\n```\n"
    )
    run, parse, text = doc_blocks.blocks([pathlib.Path(page)])
    main, bench = doc_blocks.commands(run)
    assert main.argv == ["python", "-m", "trainer.main", "--workdir=/tmp/a", "--config.seed=1"]
    assert bench.argv == ["python", "-m", "trainer.bench"]
    assert run.extra_args("trainer.main") == ["--config.train.steps=5"]
    assert run.extra_args("trainer.bench") == ["--steps=2"]
    assert run.extra_args("launch.local") == []
    assert (parse.mode, parse.marker, parse.line) == ("parse", "needs a GPU", 9)
    assert [c.argv for c in doc_blocks.commands(parse)] == [["nvidia-smi"], ["echo", "ok"]]
    assert (text.lang, text.mode) == ("text", "run")
