"""The benchmark end to end at a tiny size: every contender timed, every field in the JSON; the
FLOP count against analytic counts; the realistic models built small with both Kerases."""

import json

import pytest

from tests.support.helpers import assert_ok, run_module

CONTENDERS = {
    "harness",
    "harness_keras_adam",
    "harness_xla",
    "keras3_fit",
    "keras3_fit_spe",
    "tf_keras_fit_spe",
}

FIELDS = {
    "contender",
    "precision",
    "asked_precision",
    "jit_compile",
    "steps_per_execution",
    "examples_per_sec",
    "ratio_to_keras3_fit",
    "ratio_to_tf_keras_fit_spe",
    "ratio_to_best_fit",
    "model_flops_utilization",
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
    assert results["device"]["kind"] == "CPU"
    assert results["device"]["peak_flops_per_sec"]["float32"] > 0
    for name, model in results["models"].items():
        assert set(model["contenders"]) == CONTENDERS, name
        assert model["input_examples_per_sec"] > 0
        assert model["train_flops_per_example"] == 3 * model["forward_flops_per_example"] > 0
        for label, contender in model["contenders"].items():
            assert set(contender) == FIELDS, (name, label)
            assert contender["examples_per_sec"] > 0 and len(contender["round_seconds"]) == 2
            assert contender["precision"] == "float32" and contender["contender"] == label
            assert 0 < contender["model_flops_utilization"]
        assert model["contenders"]["keras3_fit"]["ratio_to_keras3_fit"] == 1.0
        assert model["contenders"]["tf_keras_fit_spe"]["ratio_to_tf_keras_fit_spe"] == 1.0
        assert model["contenders"]["harness_xla"]["jit_compile"] is True
        assert model["contenders"]["keras3_fit"]["jit_compile"] is False  # "auto" on a CPU.
    mlp = results["models"]["mlp"]
    assert mlp["forward_flops_per_example"] == 2 * (784 * 300 + 300 * 100 + 100 * 10)
    assert "input pipeline" in process.stdout and "harness_xla" in process.stdout


def test_each_precision_has_its_own_contenders_and_ratios_and_fit_times_its_steps(tmp_path):
    out = tmp_path / "bench.json"
    process = run_module(
        "trainer.bench",
        "--models=wide_deep",
        "--precision=float32,mixed_bfloat16,auto",
        "--contenders=harness,keras3_fit_spe,tf_keras_fit_spe",
        "--steps=2",
        "--repeats=1",
        "--examples=512",
        "--steps_per_loop=2",
        "--fit_timing=steps",
        f"--out={out}",
    )
    assert_ok(process)
    results = json.loads(out.read_text())
    assert results["fit_timing"] == "steps"
    contenders = results["models"]["wide_deep"]["contenders"]
    assert set(contenders) == {
        f"{label}{suffix}"
        for label in ("harness", "keras3_fit_spe", "tf_keras_fit_spe")
        for suffix in ("", "@mixed_bfloat16", "@auto")
    }
    assert contenders["harness@mixed_bfloat16"]["precision"] == "mixed_bfloat16"
    assert contenders["harness@auto"]["precision"] == "float32"  # auto on a CPU.
    for suffix in ("", "@mixed_bfloat16", "@auto"):
        fits = ("keras3_fit_spe", "tf_keras_fit_spe")
        best = max(contenders[f"{fit}{suffix}"]["examples_per_sec"] for fit in fits)
        harness = contenders[f"harness{suffix}"]
        assert harness["ratio_to_best_fit"] == pytest.approx(harness["examples_per_sec"] / best)
        assert harness["ratio_to_keras3_fit"] is None  # keras3_fit was not asked for.
        assert contenders[f"tf_keras_fit_spe{suffix}"]["ratio_to_tf_keras_fit_spe"] == 1.0
    assert "auto=float32" in process.stdout


def test_an_unknown_model_is_named(tmp_path):
    process = run_module("trainer.bench", "--models=resnet", f"--out={tmp_path / 'b.json'}")
    assert process.returncode != 0
    assert "Unknown model 'resnet'" in process.stderr
