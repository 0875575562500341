"""The README's and the guides' commands, run: each block marked `run` runs as shown (paths under
/tmp moved to the test's own directory, the marker's small settings appended); each block that
needs a cloud, a GPU or the internet is parsed by the program itself where it can be (the
trainer's `--config_help` applies every flag and config override and stops; the Kubernetes
launcher renders; tpu_vm.sh dry-runs; other modules' flags are looked up in their --helpfull).
The docs site builds with `mkdocs build --strict`. tests/support/doc_blocks.py has the markers."""

import functools
import importlib.util
import os
import re
import subprocess
import sys

import pytest

from tests.support import doc_blocks
from tests.support.helpers import HOUSING_CSV, REPO

SHELL = [b for b in doc_blocks.blocks() if b.lang == "bash"]
PARSE = [b for b in SHELL if b.mode == "parse"]
PYTHON = [b for b in doc_blocks.blocks() if b.lang == "python" and b.mode == "run"]


def _to_run(blocks) -> list[tuple[doc_blocks.Block, list[doc_blocks.Command]]]:
    """Each run block with the commands it runs: a command an earlier block already ran as is
    (the default run is on several pages; each costs a TensorFlow start-up) is left out, unless
    a later command of its block reads what it wrote (a path under /tmp in common)."""
    seen, kept = set(), []
    for block in blocks:
        shown = [c for c in doc_blocks.commands(block) if c.module not in NOT_RUN]
        shown = [c for c in shown if c.argv[0] not in NOT_RUN]
        runs = []
        for i, command in enumerate(shown):
            key = command.text + " " + " ".join(block.extra_args(command.module))
            later = " ".join(c.text for c in shown[i + 1 :])
            reads_it = any(p in later for p in re.findall(r"/tmp/[\w.-]+", command.text))
            if key not in seen or reads_it:
                runs.append(command)
            seen.add(key)
        if runs or not shown:
            kept.append((block, runs))
    return kept


NOT_RUN = {"pip", "pytest", ".", "source", "venv"}  # Checked by tests/unit/test_docs.py.
RUN = _to_run([b for b in SHELL if b.mode == "run"])
TIMEOUT_S = 600
HELP_EXITS = {0, 1}  # absl's --help exits 1 (trainer.main's exits 0).


def _name(block):
    return block.name


def _environment(tmp_path) -> dict:
    env = {**os.environ, "HOUSING_CSV": HOUSING_CSV, "TMPDIR": str(tmp_path)}
    env["KERAS_HOME"] = str(tmp_path / "keras")  # Downloads would land here, not in $HOME.
    return env


def _argv(command: doc_blocks.Command, block, tmp_path) -> list[str]:
    """The command as shown, with the marker's arguments, /tmp in the test's directory and
    $HOUSING_CSV expanded."""
    argv = command.argv + block.extra_args(command.module)
    argv = [re.sub(r"(?<![\w/])/tmp/", f"{tmp_path}/", a) for a in argv]
    argv = [a.replace("$HOUSING_CSV", HOUSING_CSV) for a in argv]
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def _needs_housing(block) -> bool:
    return "$HOUSING_CSV" in block.text + block.marker


@pytest.mark.parametrize(("block", "runs"), RUN, ids=[b.name for b, _ in RUN])
def test_the_block_runs(block, runs, tmp_path):
    if _needs_housing(block) and not os.path.exists(HOUSING_CSV):
        pytest.skip(f"the housing CSV is not at {HOUSING_CSV} (set TRAINER_HOUSING_CSV)")
    ran = 0
    for command in runs:
        argv = _argv(command, block, tmp_path)
        done = subprocess.run(
            argv,
            cwd=REPO,
            env=_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        expected = HELP_EXITS if argv[-1] == "--help" else {0}
        assert done.returncode in expected, (
            f"{block.name}: {' '.join(argv)}\nexit {done.returncode}\n{done.stderr[-3000:]}"
        )
        if argv[-1] == "--help":  # Exit 1 is absl's help, not a crash: it printed the flags.
            assert "Traceback" not in done.stderr and "--" in done.stdout, done.stderr[-3000:]
        ran += 1
    assert ran, f"{block.name} has nothing to run: mark it 'parse: REASON' if it needs more"


@pytest.mark.parametrize("block", PARSE, ids=_name)
def test_a_block_that_needs_more_is_parsed(block, tmp_path):
    for command in doc_blocks.commands(block):
        argv = _argv(command, block, tmp_path)
        if command.module == "trainer.main":
            _check_exits_0(block, [*argv, "--config_help"], tmp_path)
        elif command.module == "launch.kubernetes":
            shown = _check_exits_0(block, argv, tmp_path)
            assert "kind: " in shown, f"{block.name}: no manifest rendered"
        elif command.module == "launch/tpu_vm.sh":
            cut = argv.index("--") if "--" in argv else len(argv)
            _check_exits_0(block, ["bash", *argv[:cut], "--dry_run", *argv[cut:]], tmp_path)
        elif command.module.startswith(("trainer.", "launch.", "examples.")):
            flags = _flags_of(command.module)
            unknown = [a for a in command.args if _flag_name(a) not in flags | {None}]
            assert not unknown, f"{block.name}: {command.module} has no flag(s) {unknown}"


def _check_exits_0(block, argv, tmp_path) -> str:
    done = subprocess.run(
        argv, cwd=REPO, env=_environment(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{block.name}: {' '.join(argv)}\n{done.stderr[-3000:]}"
    return done.stdout


def _flag_name(arg: str) -> str | None:
    if not arg.startswith("--") or arg == "--":
        return None
    name = arg[2:].split("=", 1)[0]
    return name.split(".", 1)[0]  # --config.train.steps: the config flag.


@functools.cache
def _flags_of(module: str) -> frozenset:
    done = subprocess.run(
        [sys.executable, "-m", module, "--helpfull"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    names = re.findall(r"^\s+--(?:\[no\])?([\w.-]+)", done.stdout, flags=re.M)
    assert names, (
        f"{module} --helpfull listed no flags:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    )
    return frozenset(names) | {f"no{n}" for n in names}


@pytest.mark.parametrize("block", PYTHON, ids=_name)
def test_the_python_block_runs(block, tmp_path):
    """A block that defines get_config() is an experiment or sweep file: its config is built."""
    script = block.text + "\nif 'get_config' in globals():\n    print(get_config())\n"
    path = tmp_path / "block.py"
    path.write_text(script)
    env = {**_environment(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{block.name}:\n{done.stderr[-3000:]}"


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed (.[dev])"
)
def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "site" / "index.html").is_file()
