"""config.train.jit_compile: auto picks XLA per device, True/False as asked, anything else is an
error; a model XLA cannot compile trains on without it, and results.json says which path ran."""

from tests.support.helpers import assert_ok, assert_one_line_error, read_results, train


def test_a_model_xla_cannot_compile_trains_on_without_it(tmp_path):
    config = tmp_path / "not_compilable.py"
    config.write_text(
        "from configs import base\n\n\n"
        "def get_config():\n"
        '    config = base.get_config(model="tests.support.plugins:not_compilable")\n'
        "    config.export.saved_model = False  # A NumPy op does not travel in a SavedModel,\n"
        "    config.export.keras = False  # and its layer is not registered with Keras.\n"
        "    return config\n"
    )
    workdir = tmp_path / "run"
    process = train(
        f"--config={config}",
        f"--workdir={workdir}",
        "--config.train.jit_compile=True",
        "--config.train.steps=40",
        "--config.train.steps_per_loop=10",
    )
    assert_ok(process)
    assert "XLA could not compile the train step (no XLA kernel for PyFunc)" in process.stderr
    results = read_results(workdir)
    assert results["step"] == 40
    assert results["jit_compile"] == {
        "requested": "true",
        "enabled": False,
        "reason": "XLA failed: no XLA kernel for PyFunc",
    }


def test_the_default_on_a_cpu_is_the_plain_loop_and_a_bad_setting_is_one_line(tmp_path):
    assert_ok(train(f"--workdir={tmp_path / 'a'}", "--config.train.steps=20"))
    assert read_results(tmp_path / "a")["jit_compile"]["enabled"] is False
    assert_one_line_error(
        train(f"--workdir={tmp_path / 'b'}", "--config.train.jit_compile=maybe"),
        "config.train.jit_compile='maybe' must be True, False or 'auto'",
    )
