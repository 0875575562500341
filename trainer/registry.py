"""Plug-ins by name or import path: models, data sources and actions, built in or the user's.

`config.model.name`, `config.data.source` and each action's `action` field name a callable
registered in a `Registry` (`"mlp"`) or one given as `"package.module:callable"` (a module on
`sys.path`, e.g. a project next to the working directory). The callable's keyword arguments come
from a free-form section of the experiment file (`config.model.args`, `config.data.args`) and
are checked against its signature by the functions below; the harness passes the arguments it
provides itself (the data's input shape, the seed, ...) to callables that declare them.
"""

import dataclasses
import importlib
import inspect
from collections.abc import Callable, Iterable

from trainer.errors import HarnessError, first_line

_PLUGIN_ARGS = ("config.model.args", "config.data.args")


@dataclasses.dataclass(frozen=True, eq=False)
class Registry:
    """The callables of one kind registered by name, and the config field that names one.

    One instance per kind: `trainer.models.MODELS`, `trainer.data.SOURCES`,
    `trainer.actions.user.ACTIONS` and `trainer.actions.recipes.RECIPES`. A name resolves only
    once the module that registers it has been imported (the built-ins are, by their
    packages); a user's own callable is usually named by import path instead, which needs no
    registration.

        MODELS = Registry("model", "config.model.name")

        @MODELS.register("mlp")
        def mlp(*, input_shape, num_classes, hidden_units=(300, 100)): ...

        MODELS.resolve("mlp")                       # the function above
        MODELS.resolve("my_project.models:convnet")  # imported from the user's module

    Attributes:
      kind: what is registered ("model", "data source", "action"), for errors.
      field: the config field that names one ("config.model.name"), for errors.
    """

    kind: str
    field: str
    _entries: dict[str, Callable] = dataclasses.field(default_factory=dict, init=False, repr=False)

    def register(self, name: str) -> Callable[[Callable], Callable]:
        """Decorator: `@MODELS.register("mlp")` makes the callable available by that name.

        Raises:
          ValueError: `name` holds a ':' (it would read as an import path), or is registered
            already.
        """
        if ":" in name:
            raise ValueError(f"{self.kind} name {name!r}: a ':' would read as an import path.")

        def decorator(target: Callable) -> Callable:
            if name in self._entries:
                raise ValueError(
                    f"{self.kind} {name!r} is registered twice: {_label(self._entries[name])} "
                    f"and {_label(target)}."
                )
            self._entries[name] = target
            return target

        return decorator

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def resolve(self, name: str, *, field: str | None = None) -> Callable:
        """The callable registered as `name`, or the one at import path `module:callable`.

        Args:
          name: a registered name, or `package.module:callable` (an attribute path such as
            `module:Class.create` works too).
          field: replaces the registry's field in errors (`config.actions.stop.action`).

        Raises:
          HarnessError: an unknown name (the registered ones are listed), a module that does
            not import, or an attribute that is missing or not callable.
        """
        field = field or self.field
        if name in self._entries:
            return self._entries[name]
        if ":" not in name:
            registered = ", ".join(self.names()) or "none yet"
            raise HarnessError(
                f"Unknown {field}={name!r}: use a registered name ({registered}) or an import "
                f"path 'package.module:callable' for your own {self.kind}."
            )
        return _import(name, field=field)


def _import(path: str, *, field: str) -> Callable:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        missing = getattr(e, "name", None) or ""
        is_path = missing and (module_name + ".").startswith(missing + ".")  # It or a parent.
        if isinstance(e, ModuleNotFoundError) and is_path:
            advice = "Run from the directory that holds it, or add that directory to PYTHONPATH."
        else:  # The module exists but failed to import: its own error is the cause.
            advice = "Its own import failed: fix that import, or install what it needs."
        raise HarnessError(
            f"{field}={path!r}: cannot import module {module_name!r} "
            f"({type(e).__name__}: {first_line(e)}). {advice}"
        ) from e
    target = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
    if not attribute or not callable(target):
        found = "nothing" if target is None else f"a {type(target).__name__}"
        raise HarnessError(
            f"{field}={path!r}: module {module_name!r} has {found} named {attribute!r}, not a "
            "callable: name a function or class after the colon."
        )
    return target


def signature_of(target: Callable) -> inspect.Signature:
    try:
        return inspect.signature(target)
    except (TypeError, ValueError) as e:  # Some builtins and C extensions have none.
        raise HarnessError(f"Cannot read the signature of {_label(target)}: {e}") from e


def argument_names(target: Callable, *, provided: Iterable[str] = ()) -> list[str]:
    """Every keyword argument of `target` the config may set."""
    skip = set(provided)
    return [p.name for p in _parameters(target) if p.name not in skip]


def default_args(target: Callable, *, provided: Iterable[str] = ()) -> dict:
    """The keyword arguments of `target` that have defaults, except those the harness provides."""
    skip = set(provided)
    return {
        p.name: p.default
        for p in _parameters(target)
        if p.name not in skip and p.default is not inspect.Parameter.empty
    }


def check_args(target: Callable, args: dict, *, provided: Iterable[str], field: str) -> None:
    """Names unknown and missing arguments of `target`, with its signature, as one error.

    `provided` are the arguments the harness passes itself to a callable that declares them.
    """
    provided = set(provided)
    parameters = _parameters(target)
    takes_any = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature_of(target).parameters.values()
    )
    clash = sorted(set(args) & provided)
    unknown = [] if takes_any else sorted(set(args) - {p.name for p in parameters})
    missing = [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty and p.name not in args and p.name not in provided
    ]
    problems = [
        f"{what} {items}"
        for what, items in (
            ("argument(s) the harness provides itself", clash),
            ("unknown argument(s)", unknown),
            ("missing argument(s)", missing),
        )
        if items
    ]
    if problems:
        # A plug-in's arguments, required ones included, are fields of the config: settable on
        # the command line too. Other sections (a sweep file's, an action's) take new keys only
        # in their file.
        flag = f" or on the command line (--{field}.NAME=VALUE)" if field in _PLUGIN_ARGS else ""
        raise HarnessError(
            f"{field} does not match {_label(target)}{signature_of(target)}: "
            f"{'; '.join(problems)}. Set them in the file ({field}.NAME = VALUE){flag}."
        )


def call_with_args(target: Callable, args: dict, *, provided: dict, field: str):
    """`target(**args)` plus the `provided` values it names in its signature, after
    `check_args`."""
    check_args(target, args, provided=provided, field=field)
    declared = {p.name for p in _parameters(target)}  # Named ones only, never into **kwargs.
    given = {k: v for k, v in provided.items() if k in declared}
    return target(**args, **given)


def _parameters(target: Callable) -> list[inspect.Parameter]:
    """Parameters that can be passed by keyword (no *args, no **kwargs)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p for p in signature_of(target).parameters.values() if p.kind in kinds]


def _label(target: Callable) -> str:
    module = getattr(target, "__module__", "?")
    return f"{module}:{getattr(target, '__qualname__', repr(target))}"
