"""What a rerun changed since the run that wrote the workdir, named when its checkpoint misfits."""

import os

from configs import base
from trainer.workdir.checkpoints import CheckpointMismatch
from trainer.workdir.config_changes import changed_fields, mismatch_message
from trainer.workdir.directory import CONFIG_FILE, Workdir
from trainer.workdir.export import CLASS_NAMES_FILE

MISMATCH = CheckpointMismatch("RUN/checkpoints/ckpt-20", "ValueError: shapes (64, 16) vs (64, 32)")


def _workdir(tmp_path, **fields):
    """A workdir whose run wrote the base config (changed by `fields`) as its config.json."""
    workdir = Workdir(str(tmp_path / "run"), is_chief=True)
    os.makedirs(workdir.root)
    workdir.write_json(CONFIG_FILE, _config(**fields))
    return workdir


def _config(**fields) -> dict:
    config = base.get_config()
    config.model.args.hidden_units = (16,)
    for field, value in fields.items():
        section, *path, name = field.split("__")
        node = config[section]
        for part in path:
            node = node[part]
        node[name] = value
    return config.to_dict()


def test_the_fields_that_shape_the_variables_are_named_with_both_values(tmp_path):
    workdir = _workdir(tmp_path)
    now = _config(
        model__args__hidden_units=(32,),
        train__optimizer="sgd",
        train__steps=5000,  # Not a cause: a longer run resumes fine.
        eval__every_steps=7,
    )
    assert changed_fields(workdir, now) == [
        "config.model.args.hidden_units is (32,), was (16,)",
        "config.train.optimizer is 'sgd', was 'adam'",
    ]
    assert changed_fields(workdir, _config(train__steps=5000)) == []


def test_an_argument_added_to_an_empty_section_shows_as_unset_before(tmp_path):
    workdir = _workdir(tmp_path)
    now = _config()
    now["train"]["optimizer_args"] = {"momentum": 0.9}
    added = "config.train.optimizer_args.momentum is 0.9, was unset"
    assert changed_fields(workdir, now) == [added]


def test_the_message_names_the_changes_the_config_file_and_the_weights_to_start_from(tmp_path):
    workdir = _workdir(tmp_path)
    now = _config(model__args__hidden_units=(32,))
    message = mismatch_message(MISMATCH, workdir, now, class_names=None)
    keras_file = f"{workdir.root}/export/model.keras"
    assert message == (
        "Checkpoint RUN/checkpoints/ckpt-20 does not fit this model and optimizer, changed since "
        f"the run that wrote it ({workdir.root}/config.json): config.model.args.hidden_units is "
        "(32,), was (16,). Start a new --workdir, or keep the changes and start from that run's "
        f"weights with config.model.init_from={keras_file} once that run has finished "
        "unchanged (layers of the same name and shapes are copied)."
    )
    os.makedirs(os.path.dirname(keras_file))
    open(keras_file, "w").close()
    message = mismatch_message(MISMATCH, workdir, now, class_names=None)
    assert f"with --config.model.init_from={keras_file} (layers" in message


def test_changed_classes_are_named_and_many_changes_counted(tmp_path):
    workdir = _workdir(tmp_path)
    workdir.write_json(CLASS_NAMES_FILE, ["cat", "dog"])
    now = _config(
        model__args__hidden_units=(1,),
        model__args__dropout=0.5,
        model__args__activation="tanh",
        data__num_classes=3,
        train__optimizer="sgd",
        train__ema_momentum=0.9,
        train__fused_optimizer=False,
    )
    message = mismatch_message(MISMATCH, workdir, now, class_names=("cat", "dog", "eel"))
    assert "config.model.args.activation is 'tanh', was 'relu'; " in message
    assert "; and 2 more. Start a new --workdir" in message  # 7 fields and the classes.
    assert "\n" not in message
    classes = mismatch_message(MISMATCH, workdir, _config(), class_names=("cat", "dog", "eel"))
    assert ": the classes are ['cat', 'dog', 'eel'], were ['cat', 'dog']. Start" in classes


def test_without_a_change_or_a_config_file_the_message_gives_tensorflows_reason(tmp_path):
    workdir = _workdir(tmp_path)
    same = mismatch_message(MISMATCH, workdir, _config(), class_names=None)
    assert "optimizer (ValueError: shapes (64, 16) vs (64, 32)). Start a new" in same
    os.remove(workdir.path(CONFIG_FILE))
    assert changed_fields(workdir, _config(model__args__hidden_units=(32,))) == []
