import pytest
import tensorflow as tf

from strategies.precision import device_type, resolve_precision


def test_auto_is_float32_on_a_cpu():
    strategy = tf.distribute.get_strategy()
    assert device_type(strategy) == "CPU"
    assert resolve_precision("auto", strategy) == "float32"


@pytest.mark.parametrize("asked", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_an_explicit_precision_is_kept(asked):
    assert resolve_precision(asked, tf.distribute.get_strategy()) == asked


def test_unknown_precision_lists_the_valid_ones():
    with pytest.raises(ValueError, match="one of auto, float32, mixed_float16, mixed_bfloat16"):
        resolve_precision("float8", tf.distribute.get_strategy())


@pytest.fixture
def one_gpu_mirrored(monkeypatch):
    """A MirroredStrategy the precision rules see as running on GPUs (its device is CPU:0)."""
    monkeypatch.setattr("strategies.precision.device_type", lambda strategy: "GPU")
    return tf.distribute.MirroredStrategy(["/cpu:0"])


@pytest.mark.parametrize(
    ("bfloat16_ok", "expected"), [(True, "mixed_bfloat16"), (False, "float32")]
)
def test_auto_under_xla_on_mirrored_gpus_avoids_float16(one_gpu_mirrored, bfloat16_ok, expected):
    chosen = resolve_precision(
        "auto", one_gpu_mirrored, jit_compile=True, gpus_support_bfloat16=lambda: bfloat16_ok
    )
    assert chosen == expected
    assert resolve_precision("auto", one_gpu_mirrored, jit_compile=False) == "mixed_float16"


def test_auto_under_xla_on_one_gpu_without_mirroring_keeps_float16(monkeypatch):
    monkeypatch.setattr("strategies.precision.device_type", lambda strategy: "GPU")
    strategy = tf.distribute.get_strategy()
    assert resolve_precision("auto", strategy, jit_compile=True) == "mixed_float16"


def test_float16_under_xla_on_mirrored_gpus_is_refused_with_advice(one_gpu_mirrored):
    with pytest.raises(ValueError, match="keras#21366.*mixed_bfloat16.*jit_compile=False"):
        resolve_precision("mixed_float16", one_gpu_mirrored, jit_compile=True)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "float32"])
def test_xla_host_loop_on_mirrored_gpus_traces_except_with_loss_scaling(monkeypatch, policy):
    """HostLoop's XLA loop under MirroredStrategy as on GPUs, traced (not run) on CPU:0.

    TensorFlow takes a different path when every replica is a GPU (it no longer lifts an XLA
    function out of strategy.run), so CPU:0 poses as a GPU here. float32 and bfloat16 must trace:
    with the XLA function inside strategy.run they failed on an H100. mixed_float16 must fail as
    keras-team/keras#21366 says; when Keras fixes it, drop the precision rules and this case.
    """
    from tensorflow.python.distribute import mirrored_run, mirrored_strategy

    from trainer.loop.host_loop import HostLoop
    from trainer.modeling.keras_api import create_all_variables, keras

    monkeypatch.setattr(mirrored_strategy, "_is_gpu_device", lambda device: True)
    monkeypatch.setattr(mirrored_run, "_is_gpu_device", lambda device: True)
    keras.mixed_precision.set_global_policy(policy)
    try:
        strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
        data = (
            tf.data.Dataset.from_tensor_slices((tf.ones([16, 4]), tf.ones([16, 1])))
            .repeat()
            .batch(8)
        )
        with strategy.scope():
            inputs = keras.Input((4,))
            model = keras.Model(inputs, keras.layers.Dense(1, dtype="float32")(inputs))
            model.compile(optimizer="adam", loss="mse")
            create_all_variables(model, next(iter(data)))
        loop = HostLoop(strategy=strategy, model=model, jit_compile=True, jit_steps=2)
        iterator = iter(strategy.experimental_distribute_dataset(data))
        scalar = tf.TensorSpec([], tf.int32)
        trace = lambda: loop._train_loop.get_concrete_function(iterator, scalar, scalar)  # noqa: E731
        if policy == "mixed_float16":
            with pytest.raises(RuntimeError, match="merge_call"):
                trace()
        else:
            trace()
    finally:
        keras.mixed_precision.set_global_policy("float32")
