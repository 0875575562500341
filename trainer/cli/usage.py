"""What `--help` and `--config_help` print: a command's own flags, and the config field by field.

absl's `--help` lists the flags of the module run as __main__ (none under the console script) and
leaves out --config, defined here in trainer/cli; `--helpfull` adds every library's flags (pdb,
TPU tracing, ...). A command that wants its own page checks `help_requested(argv)` before absl
parses the flags and prints `help_text(...)`.
"""

import textwrap

import ml_collections
from absl import flags

from trainer.cli.config_flag import PLUGIN_FIELDS, has_no_value

WIDTH = 100
_INDENT = "      "
# A required plug-in argument that nothing set (a placeholder without a value).
_REQUIRED = "<required>"


def help_requested(argv) -> bool:
    """Whether argv asks for the command's help: -h, -?, --help or --helpshort (one dash or
    two, `=true|false` too; the last one wins; nothing after a bare `--`)."""
    wanted = False
    for arg in argv[1:]:
        if arg == "--":
            break
        name, _, value = arg.lstrip("-").partition("=")
        if arg.startswith("-") and name in ("h", "?", "help", "helpshort"):
            wanted = not value or value.lower() in ("true", "t", "1")
        elif arg.startswith("-") and name in ("nohelp", "nohelpshort") and not value:
            wanted = False
    return wanted


def flag_entry(flag: flags.Flag, metavar: str = "VALUE") -> tuple[str, str]:
    """(how to write it, what it does and its default) for an absl flag."""
    text = flag.help
    if flag.boolean:
        syntax = f"--{flag.name}"
    elif isinstance(flag.parser, flags.EnumParser):
        choices = "|".join(flag.parser.enum_values)
        syntax = f"--{flag.name}={choices}"
        text = text.removeprefix(f"<{choices}>: ")  # DEFINE_enum puts the choices in the help.
    else:
        syntax = f"--{flag.name}={metavar}"
    if flag.default is not None and not flag.boolean:
        text += f" Default: {flag.default}."
    return syntax, text


def help_text(doc: str, entries, sections=()) -> str:
    """The command's docstring, then its flags in the order given (`entries`: (syntax, text)
    pairs), then `sections` (paragraphs), each wrapped to WIDTH."""
    lines = [doc.strip(), "", "flags:"]
    for syntax, text in entries:
        lines.append(f"  {syntax}")
        lines += textwrap.wrap(text, WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT)
    for section in sections:
        lines += ["", *textwrap.wrap(section, WIDTH, subsequent_indent="  ")]
    return "\n".join(lines)


def config_fields_text(config, *, comments, defaults=None) -> str:
    """Every field of `config`, one line each, as Python: `train.steps = 500  # meaning`.

    `comments`: {field: (lines above it, its line's comment)} in the order to print (a section's
    lines above come before its fields); `defaults`: a config whose differing values are shown as
    the default. A plug-in's arguments say whose they are (their meaning is in its docstring).
    """
    values = dict(_leaves(config))
    default_values = dict(_leaves(defaults)) if defaults is not None else {}
    order = list(comments)
    lines, shown_above, section = [], set(), None
    for field in sorted(values, key=lambda field: _position(field, order)):
        if section is not None and field.split(".")[0] != section:
            lines.append("")
        section = field.split(".")[0]
        for key in _covering(field, order):
            if key not in shown_above and comments[key][0]:
                lines += [f"# {line}" for line in comments[key][0]]
            shown_above.add(key)
        meaning = comments[field][1] if field in comments else _plugin_argument(config, field)
        default = default_values.get(field, values[field])
        if values[field] == _REQUIRED:
            meaning = f"{meaning} (required: it has no default)".strip()
        elif default not in (values[field], _REQUIRED):
            meaning = f"{meaning} (default: {default})".strip()
        lines.append(f"{field} = {values[field]}" + (f"  # {meaning}" if meaning else ""))
    return "\n".join(lines)


def _plugin_argument(config, field: str) -> str:
    """'An argument of model 'mlp'' for a field of config.model.args, else ''."""
    for plugin in PLUGIN_FIELDS:
        if field.startswith(plugin.args + "."):
            owner = config
            for key in plugin.name.split("."):
                owner = owner[key]
            return f"An argument of {plugin.kind} {owner!r}"
    return ""


def _leaves(config, prefix: str = ""):
    """(field, value as Python text) of every value in `config`; an empty section is one."""
    for key, value in config.items():
        if isinstance(value, ml_collections.ConfigDict) and len(value):
            yield from _leaves(value, f"{prefix}{key}.")
        elif isinstance(value, ml_collections.ConfigDict):
            yield f"{prefix}{key}", "{}"
        elif has_no_value(config, key):
            yield f"{prefix}{key}", _REQUIRED
        else:
            yield f"{prefix}{key}", repr(value)


def _covering(field: str, order) -> list[str]:
    """The keys of `order` that are `field` or a section holding it, outermost first."""
    parts = field.split(".")
    prefixes = [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return [prefix for prefix in prefixes if prefix in order]


def _position(field: str, order) -> int:
    """Where `field` goes: at its innermost commented key (or section); unknown ones last."""
    covering = _covering(field, order)
    return order.index(covering[-1]) if covering else len(order)
