"""Checkpointer in-process: save, restore, retention, mismatch, the schedule against the restored
step and TrainingState, weight averages, non-chief scratch."""

import gc
import logging as python_logging
import os

import numpy as np
import pytest
import tensorflow as tf

from configs import base
from trainer.errors import HarnessError
from trainer.modeling.keras_api import create_all_variables, keras, moving_averages
from trainer.modeling.optimizers import build_optimizer
from trainer.modeling.schedules import build_schedule
from trainer.workdir.checkpoints import Checkpointer, CheckpointMismatch
from trainer.workdir.directory import CHECKPOINTS, Workdir
from trainer.workdir.training_state import TrainingState

BATCH = (np.ones((2, 4), np.float32), np.zeros((2,), np.int32))


def _model(*, hidden=8, seed=0, optimizer=None):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    x = keras.layers.Dense(hidden, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    create_all_variables(model, BATCH)
    return model


def _train_one_step(model):
    """Moves the weights and the optimizer slots away from their initial values."""
    model.train_step(tuple(tf.constant(a) for a in BATCH))


def _assert_same_state(restored, saved):
    for got, want in zip(
        restored.variables + restored.optimizer.variables,
        saved.variables + saved.optimizer.variables,
        strict=True,
    ):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-7, err_msg=got.path)


def _saved_steps(directory):
    state = tf.train.get_checkpoint_state(directory)
    paths = state.all_model_checkpoint_paths if state else []
    return sorted(int(p.rsplit("-", 1)[1]) for p in paths)


def test_restore_latest_without_a_checkpoint_starts_at_zero(tmp_path):
    model = _model()
    checkpointer = Checkpointer(
        workdir=Workdir(str(tmp_path), is_chief=True), model=model, max_to_keep=2
    )
    assert checkpointer.restore_latest() == 0
    assert checkpointer.last_saved_step is None


def test_save_then_restore_into_a_fresh_model(tmp_path):
    workdir = Workdir(str(tmp_path / "run"), is_chief=True)
    model = _model(seed=1)
    _train_one_step(model)
    model.optimizer.iterations.assign(7)
    checkpointer = Checkpointer(workdir=workdir, model=model, max_to_keep=3)
    checkpointer.save()
    assert checkpointer.last_saved_step == 7
    assert checkpointer.directory == str(tmp_path / "run" / CHECKPOINTS)
    assert _saved_steps(checkpointer.directory) == [7]

    fresh = _model(seed=2)  # Other initial weights: the restore must overwrite them.
    assert not np.allclose(fresh.layers[1].kernel.numpy(), model.layers[1].kernel.numpy())
    restorer = Checkpointer(workdir=workdir, model=fresh, max_to_keep=3)
    assert restorer.restore_latest() == 7
    assert restorer.last_saved_step == 7
    assert int(fresh.optimizer.iterations.numpy()) == 7
    _assert_same_state(fresh, model)


def test_restore_picks_the_newest_checkpoint(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    model = _model()
    checkpointer = Checkpointer(workdir=workdir, model=model, max_to_keep=5)
    model.optimizer.iterations.assign(3)
    checkpointer.save()
    _train_one_step(model)
    model.optimizer.iterations.assign(9)
    checkpointer.save()

    fresh = _model(seed=3)
    assert Checkpointer(workdir=workdir, model=fresh, max_to_keep=5).restore_latest() == 9
    _assert_same_state(fresh, model)


def test_max_to_keep_deletes_older_checkpoints(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    model = _model()
    checkpointer = Checkpointer(workdir=workdir, model=model, max_to_keep=2)
    for step in (1, 2, 3):
        model.optimizer.iterations.assign(step)
        checkpointer.save()
    assert _saved_steps(checkpointer.directory) == [2, 3]
    files = os.listdir(checkpointer.directory)
    assert not [f for f in files if f.startswith("ckpt-1.")], files
    assert [f for f in files if f.startswith("ckpt-3.")], files


def test_a_checkpoint_of_another_model_is_a_harness_error(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    model = _model(hidden=8)
    model.optimizer.iterations.assign(5)
    Checkpointer(workdir=workdir, model=model, max_to_keep=1).save()

    other = _model(hidden=16)  # Same layers, different shapes.
    checkpointer = Checkpointer(workdir=workdir, model=other, max_to_keep=1)
    with pytest.raises(HarnessError) as raised:
        checkpointer.restore_latest()
    message = str(raised.value)
    assert tf.train.latest_checkpoint(checkpointer.directory) in message
    assert "new --workdir" in message
    assert "\n" not in message
    assert checkpointer.last_saved_step is None
    assert _saved_steps(checkpointer.directory) == [5]  # The checkpoint is left intact.


def test_a_checkpoint_with_fewer_layers_is_a_harness_error(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    small = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    small.compile(optimizer="adam", loss="mse")
    create_all_variables(small, (BATCH[0], np.zeros((2, 3), np.float32)))
    Checkpointer(workdir=workdir, model=small, max_to_keep=1).save()

    with pytest.raises(HarnessError, match="new --workdir"):
        Checkpointer(workdir=workdir, model=_model(), max_to_keep=1).restore_latest()


def _scheduled_model(*, peak, scale, ema_momentum=0.0, seed=0):
    """A model whose optimizer follows a cosine schedule with warmup, times `scale`."""
    config = base.get_config()
    config.train.steps, config.train.learning_rate = 100, peak
    config.train.optimizer, config.train.ema_momentum = "sgd", ema_momentum
    config.schedule.name, config.schedule.warmup_steps = "cosine", 10
    model = _model(seed=seed, optimizer=build_optimizer(config, learning_rate_scale=scale))
    return model, build_schedule(config.schedule, peak=peak, total_steps=100)


def test_the_configured_schedule_wins_and_the_checkpoint_keeps_the_step_and_scale(tmp_path):
    """The checkpoint holds the step and TrainingState's scale, no rate of its own: the resumed
    run follows its config's schedule from the restored step, times the restored scale."""
    workdir = Workdir(str(tmp_path), is_chief=True)
    state = TrainingState()
    model, _ = _scheduled_model(peak=0.1, scale=state.learning_rate_scale)
    _train_one_step(model)
    model.optimizer.iterations.assign(40)
    assert state.scale_learning_rate(0.5) == 0.5
    Checkpointer(workdir=workdir, model=model, training_state=state, max_to_keep=1).save()

    fresh_state = TrainingState()
    fresh, schedule = _scheduled_model(peak=0.01, scale=fresh_state.learning_rate_scale, seed=1)
    restorer = Checkpointer(workdir=workdir, model=fresh, training_state=fresh_state, max_to_keep=1)
    assert restorer.restore_latest() == 40
    assert fresh_state.scale == pytest.approx(0.5)
    for step in (40, 41, 90):
        fresh.optimizer.iterations.assign(step)
        expected = 0.5 * float(schedule(step))  # The new peak's curve at the restored step.
        assert float(fresh.optimizer.learning_rate) == pytest.approx(expected, rel=1e-6)


def test_the_training_state_round_trips(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    state = TrainingState()
    assert state.early_stopping.read() == (None, -1, 0)  # Nothing watched yet.
    state.learning_rate_scale.assign(0.125)
    state.early_stopping.write(best=0.25, best_step=300, wait=2)
    state.reduce_on_plateau.write(best=0.9, best_step=200, wait=1)
    Checkpointer(workdir=workdir, model=_model(), training_state=state, max_to_keep=1).save()

    fresh = TrainingState()
    Checkpointer(
        workdir=workdir, model=_model(seed=1), training_state=fresh, max_to_keep=1
    ).restore_latest()
    assert fresh.scale == 0.125
    assert fresh.early_stopping.read() == (0.25, 300, 2)
    assert fresh.reduce_on_plateau.read() == (0.9, 200, 1)


def test_scale_learning_rate_multiplies_down_to_the_minimum():
    state = TrainingState()
    assert state.scale_learning_rate(0.5) == 0.5
    assert state.scale_learning_rate(0.1, minimum=0.1) == pytest.approx(0.1)
    assert state.scale == pytest.approx(0.1)


def test_the_checkpoint_keeps_the_weight_averages(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    model, _ = _scheduled_model(peak=0.1, scale=1.0, ema_momentum=0.9)
    for _ in range(3):
        _train_one_step(model)
    averages = [a.numpy().copy() for a in moving_averages(model)]
    weights = [w.numpy() for w in model.trainable_variables]
    assert not np.allclose(averages[0], weights[0]) and np.any(averages[0])
    Checkpointer(workdir=workdir, model=model, max_to_keep=1).save()

    fresh, _ = _scheduled_model(peak=0.1, scale=1.0, ema_momentum=0.9, seed=1)
    Checkpointer(workdir=workdir, model=fresh, max_to_keep=1).restore_latest()
    for got, want in zip(moving_averages(fresh), averages, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)
    _assert_same_state(fresh, model)


def test_a_non_chief_saves_to_scratch_and_discards_it(tmp_path):
    root = tmp_path / "run"
    workdir = Workdir(str(root), is_chief=False)
    try:
        scratch = workdir.write_path()
        assert not scratch.startswith(str(root))
        model = _model()
        model.optimizer.iterations.assign(7)
        checkpointer = Checkpointer(workdir=workdir, model=model, max_to_keep=1)
        checkpointer.save()
        assert checkpointer.last_saved_step == 7
        assert not os.path.exists(root)  # Nothing in the workdir.
        assert not os.path.exists(workdir.write_path(CHECKPOINTS))  # Scratch discarded.
        assert os.path.isdir(scratch)  # The scratch root stays until close().

        model.optimizer.iterations.assign(8)
        checkpointer.save()  # Saving again after the discard still works.
        assert checkpointer.last_saved_step == 8
        assert not os.path.exists(root)
        assert not os.path.exists(workdir.write_path(CHECKPOINTS))
    finally:
        workdir.close()
    assert not os.path.exists(scratch)


def test_a_non_chief_restores_the_chiefs_checkpoint(tmp_path):
    root = str(tmp_path / "run")
    chief_model = _model(seed=4)
    _train_one_step(chief_model)
    chief_model.optimizer.iterations.assign(7)
    Checkpointer(workdir=Workdir(root, is_chief=True), model=chief_model, max_to_keep=1).save()

    worker = Workdir(root, is_chief=False)
    try:
        model = _model(seed=5)
        checkpointer = Checkpointer(workdir=worker, model=model, max_to_keep=1)
        assert checkpointer.directory == f"{root}/{CHECKPOINTS}"
        assert tf.train.latest_checkpoint(checkpointer.directory).endswith("ckpt-7")
        assert checkpointer.restore_latest() == 7
        _assert_same_state(model, chief_model)
    finally:
        worker.close()


def test_read_loads_a_given_checkpoint(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    model = _model(seed=6)
    checkpointer = Checkpointer(workdir=workdir, model=model, max_to_keep=5)
    model.optimizer.iterations.assign(2)
    checkpointer.save()
    first = tf.train.latest_checkpoint(checkpointer.directory)
    first_kernel = model.layers[1].kernel.numpy().copy()
    _train_one_step(model)
    model.optimizer.iterations.assign(6)
    checkpointer.save()
    assert not np.allclose(model.layers[1].kernel.numpy(), first_kernel)

    fresh = _model(seed=7)
    reader = Checkpointer(workdir=workdir, model=fresh, max_to_keep=5)
    reader.read(first)  # Not the latest: the one asked for.
    assert int(fresh.optimizer.iterations.numpy()) == 2
    np.testing.assert_allclose(fresh.layers[1].kernel.numpy(), first_kernel, rtol=0, atol=1e-7)
    assert reader.last_saved_step is None  # read() is not a resume.


def test_a_checkpoint_from_before_training_recipes_is_named_as_such(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    Checkpointer(workdir=workdir, model=_model(), max_to_keep=1).save()  # No TrainingState.
    checkpointer = Checkpointer(
        workdir=workdir, model=_model(), training_state=TrainingState(), max_to_keep=1
    )
    with pytest.raises(HarnessError, match="from before training recipes"):
        checkpointer.restore_latest()


def test_a_misfit_names_its_checkpoint_and_tensorflows_unrestored_warnings_are_dropped(tmp_path):
    workdir = Workdir(str(tmp_path), is_chief=True)
    Checkpointer(workdir=workdir, model=_model(hidden=8), max_to_keep=1).save()
    other = _model(hidden=16, optimizer=keras.optimizers.SGD())  # Fewer slots, other shapes.
    checkpointer = Checkpointer(workdir=workdir, model=other, max_to_keep=1)
    with pytest.raises(CheckpointMismatch) as raised:
        checkpointer.restore_latest()
    assert raised.value.checkpoint == tf.train.latest_checkpoint(checkpointer.directory)
    assert raised.value.reason.startswith("ValueError: Received incompatible tensor")

    # The restore's leftovers warn when collected (at exit in a run): never after the error.
    seen = []
    handler = python_logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    tf.get_logger().addHandler(handler)
    try:
        del other, checkpointer, raised
        gc.collect()
        tf.get_logger().warning("Value in checkpoint could not be found in the restored object: x")
        tf.get_logger().warning("Another warning")
    finally:
        tf.get_logger().removeHandler(handler)
    assert seen == ["Another warning"]
