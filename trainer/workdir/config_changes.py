"""What a rerun changed since the run that wrote the workdir, for a checkpoint that does not fit.

The fields that give the model or optimizer other variables (model, data, optimizer, weight
averages) are compared with WORKDIR/config.json, the resolved config that run wrote, and the
data's classes with WORKDIR/class_names.json, so that the error names what changed and the two
ways on: a new workdir, or these changes starting from that run's exported weights.
"""

import json

import tensorflow as tf

from trainer.workdir.checkpoints import CheckpointMismatch
from trainer.workdir.directory import CONFIG_FILE, EXPORT, Workdir
from trainer.workdir.export import CLASS_NAMES_FILE

# Config fields (and everything under them) whose change gives the model or the optimizer other
# variables, or the labels another meaning.
SHAPING = (
    "model.name",
    "model.args",
    "model.freeze",
    "data.source",
    "data.args",
    "data.num_classes",
    "data.label_outputs",
    "train.optimizer",
    "train.optimizer_args",
    "train.fused_optimizer",
    "train.ema_momentum",
)
KERAS_EXPORT = f"{EXPORT}/model.keras"  # What config.model.init_from can start from.
_SHOWN = 6  # Changes named in the error; the rest are counted.


def mismatch_message(
    mismatch: CheckpointMismatch, workdir: Workdir, config: dict, class_names
) -> str:
    """One line: the checkpoint, what changed since its run (else TensorFlow's reason), and
    the fix. `config`: the resolved config this run would write (`config.to_dict()`)."""
    changes = changed_fields(workdir, config) + _changed_classes(workdir, class_names)
    if changes:
        more = len(changes) - _SHOWN
        named = "; ".join(changes[:_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        what = f", changed since the run that wrote it ({workdir.path(CONFIG_FILE)}): {named}"
    else:
        what = f" ({mismatch.reason})"
    keras_file = workdir.path(KERAS_EXPORT)
    if tf.io.gfile.exists(keras_file):
        start_from = f"--config.model.init_from={keras_file}"
    else:  # Written when that run finishes.
        start_from = f"config.model.init_from={keras_file} once that run has finished unchanged"
    return (
        f"Checkpoint {mismatch.checkpoint} does not fit this model and optimizer{what}. Start "
        f"a new --workdir, or keep the changes and start from that run's weights with "
        f"{start_from} (layers of the same name and shapes are copied)."
    )


def changed_fields(workdir: Workdir, config: dict) -> list[str]:
    """`config.FIELD is NEW, was OLD` for each SHAPING field that differs from the workdir's
    config.json, in field order; [] when there is none to read."""
    written = _read_json(workdir.path(CONFIG_FILE))
    if not isinstance(written, dict):
        return []
    # As config.json holds it: tuples become lists, so that only real changes differ.
    now = json.loads(json.dumps(config, default=str))
    old, new = _flatten(written), _flatten(now)
    changes = []
    for field in sorted(set(old) | set(new)):
        if old.get(field, _UNSET) != new.get(field, _UNSET) and _shapes(field):
            changes.append(f"config.{field} is {_shown(new, field)}, was {_shown(old, field)}")
    return changes


def _changed_classes(workdir: Workdir, class_names) -> list[str]:
    trained = _read_json(workdir.path(CLASS_NAMES_FILE))
    if not class_names or not isinstance(trained, list) or trained == list(class_names):
        return []
    return [f"the classes are {list(class_names)[:10]}, were {trained[:10]}"]


def _shapes(field: str) -> bool:
    return any(field == prefix or field.startswith(prefix + ".") for prefix in SHAPING)


def _flatten(tree: dict, prefix: str = "") -> dict:
    """{"a.b.c": leaf}; an empty dict has no leaves (a field added to it shows as unset)."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class _Unset:
    def __repr__(self) -> str:
        return "unset"


_UNSET = _Unset()


def _shown(flat: dict, field: str) -> str:
    """The value as the command line writes it: (32,) rather than JSON's [32]."""
    return repr(_as_tuples(flat.get(field, _UNSET)))


def _as_tuples(value):
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    return value


def _read_json(path: str):
    """The JSON file at `path`, or None when it is missing or unreadable."""
    try:
        with tf.io.gfile.GFile(path) as f:
            return json.load(f)
    except (tf.errors.OpError, OSError, ValueError):
        return None
