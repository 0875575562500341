"""MkDocs hook: the config fields of configs/base.py as tables, rendered at build time.

mkdocstrings renders functions, not the comment beside each field, so a page that holds the
marker `<!-- config-fields configs/base.py -->` gets, in its place, one table per section of
`get_config` (field, default, the comment on its line) under that section's own comment. The
file is read, never imported (it would load Keras). A field without a comment, or a marker that
finds no fields, is a warning, which `mkdocs build --strict` turns into a failure.
"""

import ast
import html
import io
import logging
import os
import re
import tokenize

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.config_fields")

MARKER = re.compile(r"^<!--\s*config-fields\s+(\S+)\s*-->\s*$", re.MULTILINE)
FUNCTION = "get_config"


def on_page_markdown(markdown, *, page, config, files):
    root = os.path.dirname(config.config_file_path)

    def table(match):
        path = match.group(1)
        try:
            with open(os.path.join(root, path), encoding="utf-8") as f:
                source = f.read()
        except OSError as e:
            raise PluginError(f"{page.file.src_path}: cannot read {path}: {e}") from e
        sections = config_sections(source, path)
        if not any(fields for _, _, fields in sections):
            log.warning("%s: no config fields in %s's %s()", page.file.src_path, path, FUNCTION)
        return render(sections, path)

    return MARKER.sub(table, markdown)


def on_serve(server, *, config, builder):
    """`mkdocs serve` rebuilds when configs/base.py changes, not only docs/."""
    server.watch(os.path.join(os.path.dirname(config.config_file_path), "configs", "base.py"))
    return server


def config_sections(source: str, path: str) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """[(section, its comment, [(field, default, comment)])] of `get_config`, in source order.

    A section starts where `config.NAME = ml_collections.ConfigDict()` assigns it; fields are
    the assignments `config.SECTION.FIELD = value  # comment` (or `config.FIELD` at the top).
    """
    tree = ast.parse(source)
    function = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == FUNCTION), None
    )
    if function is None:
        raise PluginError(f"{path} has no {FUNCTION}(): nothing to render")
    defaults = _parameter_defaults(function, source)
    trailing, full_line = _comments(source)
    sections = [("config", "", [])]
    for statement in function.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target = _dotted(statement.targets[0])
        if not target or target[0] != "config" or len(target) < 2:
            continue
        above = _comment_block(full_line, statement.lineno)
        if len(target) == 2 and _is_empty_config_dict(statement.value):
            sections.append((".".join(target), above, []))
            continue
        default = _default(statement.value, source, defaults)
        comment = trailing.get(statement.end_lineno, "")
        if not comment:
            log.warning("%s line %d: %s has no comment", path, statement.lineno, ".".join(target))
        owner = ".".join(target[:-1])
        for name, _, fields in reversed(sections):
            if name == owner:
                fields.append((".".join(target), default, comment))
                break
        else:
            sections.append((owner, above, [(".".join(target), default, comment)]))
    return [section for section in sections if section[1] or section[2]]


def render(sections, path: str) -> str:
    out = [f"Read from `{path}` when this site was built.", ""]
    for name, about, fields in sections:
        out += [f"### `{name}`", ""]
        if about:
            out += [_text(about), ""]
        if fields:
            out += ["| field | default | meaning |", "| --- | --- | --- |"]
            out += [
                f"| `{_cell(field)}` | `{_cell(default)}` | {_cell(_text(comment))} |"
                for field, default, comment in fields
            ]
            out.append("")
    return "\n".join(out)


def _parameter_defaults(function: ast.FunctionDef, source: str) -> dict[str, str]:
    """get_config's keyword defaults (`model="mlp"`), for fields assigned from them."""
    args = function.args
    positional = args.args[len(args.args) - len(args.defaults) :]
    pairs = list(zip(positional, args.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d]
    return {arg.arg: ast.get_source_segment(source, default) for arg, default in pairs}


def _comments(source: str) -> tuple[dict[int, str], dict[int, str]]:
    """({line: comment after code}, {line: comment alone on its line}), text after the `#`."""
    trailing, full_line = {}, {}
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        line, column = token.start
        text = token.string.lstrip("#").strip()
        if lines[line - 1][:column].strip():
            trailing[line] = text
        else:
            full_line[line] = text
    return trailing, full_line


def _comment_block(full_line: dict[int, str], line: int) -> str:
    """The comment lines directly above `line`, joined."""
    block = []
    while line - 1 in full_line:
        line -= 1
        block.insert(0, full_line[line])
    return " ".join(block)


def _dotted(node) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    return [node.id, *parts] if isinstance(node, ast.Name) else None


def _is_empty_config_dict(node) -> bool:
    return (
        isinstance(node, ast.Call)
        and not node.args
        and not node.keywords
        and (_dotted(node.func) or [""])[-1] == "ConfigDict"
    )


def _default(node, source: str, defaults: dict[str, str]) -> str:
    if _is_empty_config_dict(node):
        return "{}"
    if isinstance(node, ast.Name) and node.id in defaults:
        return defaults[node.id]  # config.model.name = model: get_config's default.
    return ast.get_source_segment(source, node)


def _text(comment: str) -> str:
    return html.escape(comment, quote=False).replace("*", r"\*")


def _cell(text: str) -> str:
    return text.replace("|", r"\|")
