"""The benchmark end to end at a tiny size: every contender timed, every field in the JSON."""

import json

from tests.helpers import assert_ok, run_module

CONTENDERS = {"harness", "harness_xla", "keras3_fit", "keras3_fit_spe", "tf_keras_fit_spe"}
FIELDS = {
    "examples_per_sec",
    "ratio_to_keras3_fit",
    "ratio_to_tf_keras_fit_spe",
    "time_to_first_step_s",
    "round_seconds",
}


def test_the_bench_times_every_contender_on_every_model(tmp_path):
    out = tmp_path / "bench.json"
    process = run_module(
        "trainer.bench",
        "--models=mlp,wide_deep,vgg",
        "--steps=4",
        "--repeats=2",
        "--examples=256",
        "--steps_per_loop=2",
        f"--out={out}",
    )
    assert_ok(process)
    results = json.loads(out.read_text())
    assert set(results["models"]) == {"mlp", "wide_deep", "vgg"}
    for name, model in results["models"].items():
        assert set(model["contenders"]) == CONTENDERS, name
        assert model["input_examples_per_sec"] > 0
        for label, contender in model["contenders"].items():
            assert set(contender) == FIELDS, (name, label)
            assert contender["examples_per_sec"] > 0 and len(contender["round_seconds"]) == 2
        assert model["contenders"]["keras3_fit"]["ratio_to_keras3_fit"] == 1.0
        assert model["contenders"]["tf_keras_fit_spe"]["ratio_to_tf_keras_fit_spe"] == 1.0
    assert "input pipeline" in process.stdout and "harness_xla" in process.stdout


def test_an_unknown_model_is_named(tmp_path):
    process = run_module("trainer.bench", "--models=resnet", f"--out={tmp_path / 'b.json'}")
    assert process.returncode != 0
    assert "Unknown model 'resnet'" in process.stderr
