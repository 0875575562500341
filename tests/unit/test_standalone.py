"""The repository speaks of itself alone: a user clones it and has nothing beside it.

Every text file a user reads or runs (the packages, configs, examples, docs, benchmarks, the
top-level documents, the Dockerfile, pyproject.toml and the CI script) is scanned, line by line,
for what only its builders could follow: paths outside the repository (`../shared`), notes that
are not in it (DESIGN.md), the project's own issue numbers (a bare `#23`, "issue 23"; public
upstream references such as keras-team/keras#21366 are useful and stay), and words about how it
was built (sessions, lent or drawn machines, device time). Each hit is reported as
`path:line: text`; the self-tests below show what each pattern catches and what it spares.
"""

import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What is scanned, relative to the repository root: folders (walked) and files. A folder that
# does not exist yet is skipped.
SCANNED = (
    "trainer",
    "strategies",
    "launch",
    "configs",
    "examples",
    "docs",
    "benchmarks",
    "README.md",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
    "Dockerfile",
    "pyproject.toml",
    ".ci",
)
SKIPPED_FOLDERS = {"__pycache__", ".pytest_cache", ".ruff_cache", "site"}

# Projects whose issue trackers a line may cite by number in words ("TensorFlow issue 56372").
UPSTREAM = {
    "cpython",
    "github",
    "jax",
    "jobset",
    "keras",
    "kubernetes",
    "kueue",
    "numpy",
    "optuna",
    "python",
    "pytorch",
    "tensorflow",
    "tf-keras",
    "tf_keras",
    "upstream",
}

# A bare issue reference: `#` and 1-5 digits, not glued to a repository name (`keras#1`,
# `owner/repo#1`), a shell `$#`, an HTML `&#1;` or a URL (`page#1`); 6 digits are a colour.
_BARE_ISSUE = re.compile(r"(?<![\w/.$&#-])#\d{1,5}\b")
# `owner/repo` at the end of a line: a bare `#N` opening the next line continues it.
_REPO_AT_END = re.compile(r"[\w.-]+/[\w.-]+$")
# "issue 23", "issues 12 and 13", "Issue #16": the word, then a number. The word before it, if
# it names an upstream project, makes it theirs.
_ISSUE_WORD = re.compile(
    r"(?:\b(?P<owner>[\w.-]+?)(?:'s)?\s+)?\bissues?\s+(?:no\.\s*)?#?\d+\b", re.IGNORECASE
)
# "session" in the sense of a working session. A process's session (`start_new_session`, "in
# its own session", "a session of its own", "the ssh session", `tf.Session()`) is fine.
_SESSION = re.compile(r"\bsessions?\b", re.IGNORECASE)
_SESSION_FINE_BEFORE = re.compile(
    r"(?:\b(?:own|new|ssh|login|terminal|process|child|worker|tmux|screen|shell|interactive)"
    r"(?:'s)?\s+|\.)$",
    re.IGNORECASE,
)
_SESSION_FINE_AFTER = re.compile(
    r"^(?:\s+of\s+(?:its|their|your|his|her)\s+own\b|\s+(?:leader|id)\b|\()", re.IGNORECASE
)

# name: (pattern, what it stands for). Each matches within one line.
_SIMPLE = {
    "path outside the repository": re.compile(
        r"\.\./shared\b|[\"']\.\.[\"']\s*,\s*[\"']shared[\"']"
    ),
    "note outside the repository": re.compile(r"\bDESIGN\.md\b"),
    "lent machine": re.compile(r"\blent\b", re.IGNORECASE),
    "drawn machine": re.compile(
        r"\bdrawn\s+(?:by\s+chance|tasks?|machines?|devices?|GPUs?|H100s?|H200s?)\b"
        r"|\b(?:tasks?|machines?|GPUs?)\s+(?:(?:is|are|was|were|gets?|got)\s+)?drawn\b",
        re.IGNORECASE,
    ),
    "device time": re.compile(
        r"\bdevice[- ](?:time|minutes?|hours?|seconds?|budgets?|machines?)\b|\bbudget_left"
        r"|`device` tool|\bthis workplace\b",
        re.IGNORECASE,
    ),
}


def line_problems(line: str, previous: str = "") -> list[str]:
    """What is wrong with one line (`previous` is the line before it): the names of the rules
    it breaks, in a fixed order; none for a fine line."""
    problems = [name for name, pattern in _SIMPLE.items() if pattern.search(line)]
    for match in _BARE_ISSUE.finditer(line):
        continues_repo = not line[: match.start()].strip() and _REPO_AT_END.search(
            previous.rstrip()
        )
        if not continues_repo:
            problems.append("issue number")
            break
    for match in _ISSUE_WORD.finditer(line):
        if (match.group("owner") or "").lower() not in UPSTREAM:
            problems.append("issue number in words")
            break
    for match in _SESSION.finditer(line):
        before, after = line[: match.start()], line[match.end() :]
        if not (_SESSION_FINE_BEFORE.search(before) or _SESSION_FINE_AFTER.search(after)):
            problems.append("session")
            break
    return problems


def scanned_files() -> list[str]:
    """The text files under SCANNED, as paths relative to the repository root, sorted."""
    paths = []
    for entry in SCANNED:
        full = os.path.join(REPO, entry)
        if os.path.isfile(full):
            paths.append(entry)
        for folder, subfolders, files in os.walk(full):
            subfolders[:] = sorted(s for s in subfolders if s not in SKIPPED_FOLDERS)
            paths += [os.path.relpath(os.path.join(folder, f), REPO) for f in files]
    return sorted(p for p in paths if read_text(p) is not None)


def read_text(path: str, root: str = REPO) -> str | None:
    """The file's text, or None for a file that is not UTF-8 text (images, archives)."""
    with open(os.path.join(root, path), "rb") as f:
        data = f.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def hits(path: str, text: str) -> list[str]:
    """`path:line: text (rules)` for every line of `text` that breaks a rule."""
    found, previous = [], ""
    for number, line in enumerate(text.splitlines(), start=1):
        problems = line_problems(line, previous)
        if problems:
            found.append(f"{path}:{number}: {line.strip()}  [{', '.join(problems)}]")
        previous = line
    return found


def test_the_repository_speaks_of_itself_alone():
    files = scanned_files()
    assert "README.md" in files and "trainer/main.py" in files  # The walk found the tree.
    found = [hit for path in files for hit in hits(path, read_text(path))]
    assert not found, "text that only the project's builders could follow:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("    path = '../shared/datasets/california_housing/housing.csv'", "path outside"),
        ('os.path.join(REPO, "..", "shared", "datasets")', "path outside"),
        ("See DESIGN.md for the reasons.", "note outside"),
        ("The MLP goal of #23 is met.", "issue number"),
        ("Fixed (#7).", "issue number"),
        ("Issue 16, part: .npz source", "issue number in words"),
        ("as issues 12 and 13 asked", "issue number in words"),
        ("see issue #5", "issue number"),
        ("the model-zoo issue 15 goal", "issue number in words"),
        ("One round took 6 minutes of the 30 a session has.", "session"),
        ("about 6 of the session's 30 device minutes", "session"),
        ("In this session the H100 was slow.", "session"),
        ("measured in the last session (see below)", "session"),
        ("checks for the lent H100", "lent machine"),
        ("An H100 Lent by the tool", "lent machine"),
        ("the machine drawn by chance for this task", "drawn machine"),
        ("when a task is drawn", "drawn machine"),
        ("a drawn task has 15 minutes", "drawn machine"),
        ("within the device time left", "device time"),
        ("30 device minutes", "device time"),
        ("status says budget_left_s", "device time"),
        ("run on the device machine", "device time"),
        ("The `device` tool lends some tasks a GPU", "device time"),
        ("Running the harness on this workplace's GPU machines", "device time"),
    ],
)
def test_each_pattern_catches_what_it_should(line, problem):
    problems = line_problems(line)
    assert any(p.startswith(problem) for p in problems), (line, problems)
    assert any(hit.endswith("]") for hit in hits("x.md", line))


@pytest.mark.parametrize(
    "line",
    [
        # Public upstream issues, with their repository or project.
        "Keras's fit fails there (keras-team/keras#20585).",
        "see TensorFlow issue tensorflow#56372",
        "keras#21366 again",
        "TensorFlow issue 56372",
        "google-auth-library-python#604",
        # Markdown anchors, headings, Python and shell comments, colours, counts.
        "[Your own model and data](#your-own-model-and-data)",
        "## 2026 results",
        "x = 1  # 2 workers on loopback",
        "#!/usr/bin/env bash",
        'color = "#1f77b4"  # matplotlib blue; "#000000" is black',
        "[ $# -gt 0 ] || stages=(resnet50 bert_encoder)",
        "&#8212; an HTML dash",
        "see https://example.com/page#12",
        "${#names[@]} names",
        # A user's budgets and the sweep's trial budget.
        "--max_restarts is the restart budget",
        "`--trials` is the study's budget: each process stops",
        "the worst-case preemption budget",
        # Processes' sessions.
        "workers in their own sessions, with PDEATHSIG",
        "Each worker runs in its own session, so Ctrl-C reaches only the launcher.",
        "setsid: the run gets a session of its own, so the end of the ssh session",
        "start_new_session=True,",
        "signal_session(process, signum)",
        "sess = tf.compat.v1.Session()",
        "kill the session leader",
        "`signum` to every process of a running child's session (see `start_child`).",
        # Values drawn from a search space, pictures drawn, layers drawn.
        "plus values drawn from the sweep file's search space",
        "Learning curves drawn from a run's own TensorBoard event files.",
        "Layers drawn in trainer/__init__.py",
        "each delay is drawn from [delay / 2, delay] (jitter)",
        # Words that contain the forbidden ones.
        "silently equivalent, excellently",
        "the device's time zone; device placement; time per device",
        "the issue: a tf.data autotuner wait",
    ],
)
def test_each_pattern_spares_the_fine_cases(line):
    assert line_problems(line) == [], line


def test_an_upstream_reference_split_over_two_lines_is_spared():
    previous = "    inside a `cond`, which needs a merge_call (keras-team/keras"
    assert line_problems("    #21366, seen on an H100). So `auto` picks", previous) == []
    # After anything but a repository, the same line is a bare issue number.
    assert line_problems("    #21366, seen on an H100.", "    as asked in") == ["issue number"]


def test_hits_name_the_path_and_line():
    text = "fine\nthe lent H100\nfine\nsee #12\n"
    assert hits("benchmarks/x.md", text) == [
        "benchmarks/x.md:2: the lent H100  [lent machine]",
        "benchmarks/x.md:4: see #12  [issue number]",
    ]


def test_binary_files_are_not_read_as_text(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0#12")
    (tmp_path / "b.bin").write_bytes(b"\xff\xfe#12 lent")
    (tmp_path / "c.txt").write_text("text")
    assert read_text("a.png", str(tmp_path)) is None and read_text("b.bin", str(tmp_path)) is None
    assert read_text("c.txt", str(tmp_path)) == "text"
