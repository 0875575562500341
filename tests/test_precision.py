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
