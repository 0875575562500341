"""The code blocks of the README and the guides, and their commands, for the tests that run them.

A fenced block may follow a marker, an HTML comment that the rendered page hides:

    <!-- test: run -->                  run every command as shown (the default for bash blocks)
    <!-- test: run ARGS -->             ... with ARGS appended to each trainer.main, launch.local
                                        and trainer.sweep command: small settings for a long run
    <!-- test: run MODULE: ARGS ; MODULE: ARGS -->   ARGS per module (`python -m MODULE`)
    <!-- test: parse: REASON -->        needs what the tests lack (a cloud, a GPU, the internet, a
                                        user's file): its commands are checked, not run

`$HOUSING_CSV` in a marker or a command is the California housing CSV the tests point at.
Python blocks run as they are; `text` blocks are output, not code.
"""

import dataclasses
import pathlib
import re
import shlex

from tests.support.helpers import REPO as _REPO

REPO = pathlib.Path(_REPO)

DOCUMENTS = (REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("**/*.md")))
DEFAULT_TARGETS = ("trainer.main", "launch.local", "trainer.sweep")
_MARKER = re.compile(r"^\s*<!--\s*test:\s*(run|parse)\b:?\s*(.*?)\s*-->\s*$")
_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


@dataclasses.dataclass(frozen=True)
class Block:
    path: pathlib.Path
    line: int  # Of the opening fence, 1-based.
    lang: str
    text: str
    mode: str  # run | parse
    marker: str  # The marker's ARGS (run) or REASON (parse).

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    def extra_args(self, module: str) -> list[str]:
        """What the marker appends to a `python -m MODULE` command of this block."""
        if self.mode != "run" or not self.marker:
            return []
        if ":" not in self.marker.split()[0]:
            return shlex.split(self.marker) if module in DEFAULT_TARGETS else []
        for part in self.marker.split(";"):
            modules, _, args = part.partition(":")
            if module in (m.strip() for m in modules.split(",")):
                return shlex.split(args)
        return []

    def marked_modules(self) -> set[str]:
        if self.mode != "run" or not self.marker or ":" not in self.marker.split()[0]:
            return set()
        names = (part.partition(":")[0] for part in self.marker.split(";"))
        return {m.strip() for modules in names for m in modules.split(",")}


@dataclasses.dataclass(frozen=True)
class Command:
    argv: list[str]
    text: str  # As shown, continuation lines joined.

    @property
    def module(self) -> str:
        """`trainer.main` for `python -m trainer.main ...`, else the program's name."""
        if self.argv[0] in ("python", "python3") and len(self.argv) > 2 and self.argv[1] == "-m":
            return self.argv[2]
        if self.argv[0] in ("python", "python3") and len(self.argv) > 1:
            return self.argv[1]  # A script: benchmarks/model_zoo.py.
        return self.argv[0]

    @property
    def args(self) -> list[str]:
        if self.argv[0] in ("python", "python3"):
            return self.argv[3:] if self.argv[1] == "-m" else self.argv[2:]
        return self.argv[1:]


def blocks(documents=DOCUMENTS) -> list[Block]:
    found = []
    for path in documents:
        found.extend(_blocks_of(path))
    return found


def _blocks_of(path: pathlib.Path) -> list[Block]:
    lines = path.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, lang, start = fence.group(1), fence.group(2), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        marker = _MARKER.match(lines[start - 1]) if start else None
        mode, args = (marker.group(1), marker.group(2)) if marker else ("run", "")
        found.append(Block(path, start + 1, lang, "\n".join(body) + "\n", mode, args))
    return found


def commands(block: Block) -> list[Command]:
    """Each command of a shell block: continuation lines joined, comments and pipes cut off
    (`... | kubectl apply -f -` is the command before the pipe)."""
    joined = re.sub(r"\\\n\s*", " ", block.text)
    found = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for part in re.split(r"\s&&\s", line):
            argv = shlex.split(part, comments=True)
            if "|" in argv:
                argv = argv[: argv.index("|")]
            if argv:
                found.append(Command(argv, part.strip()))
    return found
