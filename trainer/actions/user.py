"""Actions from the experiment file: `config.actions.NAME = {"action": ..., "every_steps": N, ...}`.

`action` names a callable by import path (`examples.my_project.actions:StopAtTarget`) or by a name
registered in ACTIONS (none is built in yet; the recipe actions of trainer/actions/recipes.py
are set by their own config sections, not here). The harness calls it once with the other fields as
keyword arguments (checked against its signature), plus `workdir` and `is_chief` if it declares
them, and calls what it returns after each host loop (every `every_steps` steps when > 0) with the
RunState, and once more with the final validation if the last host loop did not evaluate it (a
stop between evaluations, a rerun of a finished run). `workdir` is where this worker writes: the
run's workdir on the chief, a scratch directory deleted at the end on every other worker, so a
file an action writes there lands in the workdir once. An action that raises ends the run with an
error naming it; the last checkpoint stays as it was.
"""

from trainer import registry
from trainer.actions.recipes import SECTIONS
from trainer.errors import HarnessError, first_line
from trainer.loop.controller import RunState, Scheduled

ACTIONS = registry.Registry("action", "config.actions.NAME.action")
RESERVED = ("action", "every_steps")


def user_actions(actions_config, *, workdir: str, is_chief: bool) -> list[Scheduled]:
    """The actions of `config.actions`, each built once and scheduled at its `every_steps`.

    Args:
      actions_config: `config.actions`: {name: {"action": ..., "every_steps": N, ...}}.
      workdir: the directory this worker writes (the run's workdir on the chief, a scratch
        directory elsewhere), for a factory that declares `workdir`.
      is_chief: whether this worker writes the workdir, for a factory that declares it.

    Returns:
      One `Scheduled` per entry, in the config's order, named by its key.

    Raises:
      HarnessError: an entry that is not a dict with an `action` string, a negative
        `every_steps`, a recipe action's name, a callable that does not resolve or does not
        take the entry's arguments, or one that does not return a callable.
    """
    scheduled = []
    for name, fields in actions_config.items():
        field = f"config.actions.{name}"
        fields = fields.to_dict() if hasattr(fields, "to_dict") else fields
        if not isinstance(fields, dict) or not isinstance(fields.get("action"), str):
            raise HarnessError(
                f"{field} must be a dict with 'action': 'package.module:callable' (and optional "
                f"'every_steps' and the callable's arguments); got {fields!r}."
            )
        args = {k: v for k, v in fields.items() if k not in RESERVED}
        every_steps = fields.get("every_steps", 0)
        if not isinstance(every_steps, int) or every_steps < 0:
            raise HarnessError(f"{field}.every_steps={every_steps!r} must be 0 or a positive int.")
        if fields["action"] in SECTIONS:  # They need the run's objects: built from the config.
            section = SECTIONS[fields["action"]]
            raise HarnessError(
                f"{field}.action={fields['action']!r} is a recipe action, built from {section}: "
                f"set {section} instead of {field}."
            )
        factory = ACTIONS.resolve(fields["action"], field=f"{field}.action")
        action = registry.call_with_args(
            factory, args, provided={"workdir": workdir, "is_chief": is_chief}, field=field
        )
        if not callable(action):
            raise HarnessError(
                f"{field}: {fields['action']} returned {type(action).__name__}; it must return "
                "a callable that takes the run state (a class with __call__(self, state))."
            )
        scheduled.append(Scheduled(_Guarded(action, name, fields["action"]), every_steps, name))
    return scheduled


class _Guarded:
    """Turns an exception inside a user action into one error line that names the action."""

    def __init__(self, action, name: str, path: str):
        self._action, self._name, self._path = action, name, path

    def __call__(self, state: RunState) -> None:
        try:
            self._action(state)
        except HarnessError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure of user code ends the run cleanly.
            raise HarnessError(
                f"Action {self._name!r} ({self._path}) raised {type(e).__name__} at step "
                f"{state.step}: {first_line(e)}. Checkpoints so far are intact."
            ) from e
