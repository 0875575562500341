"""The benchmark end to end at a tiny size: every contender timed, every field in the JSON; the
FLOP count against analytic counts; the realistic models built small with both Kerases."""

import importlib
import json

import numpy as np
import pytest

from tests.helpers import assert_ok, run_module

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


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"precisions": ["float64"]}, "Unknown precision 'float64'"),
        ({"contenders": ["harness", "fit"]}, "Unknown contender 'fit'"),
    ],
)
def test_an_unknown_precision_or_contender_is_named_before_any_work(arguments, message):
    from trainer.bench.harness_vs_fit import run_benchmark

    with pytest.raises(ValueError, match=message):
        run_benchmark(["mlp"], steps=1, repeats=1, examples=8, steps_per_loop=1, **arguments)


def _keras(name):
    return pytest.importorskip(name)


@pytest.mark.parametrize("module", ["keras", "tf_keras"])
def test_flops_of_small_models_match_their_analytic_counts(module):
    from trainer.bench.flops import forward_flops

    k = _keras(module)
    dense = k.Sequential([k.Input((20,)), k.layers.Dense(30, activation="relu"), k.layers.Dense(5)])
    assert forward_flops(dense, (20,)) == 2 * (20 * 30 + 30 * 5)  # Biases, ReLU not counted.

    conv = k.Sequential([k.Input((8, 8, 2)), k.layers.Conv2D(4, 3, padding="same")])
    assert forward_flops(conv, (8, 8, 2)) == 2 * (8 * 8 * 4) * (3 * 3 * 2)

    # Self-attention over 6 positions of width 8, 2 heads of 4: Keras 3 traces it as
    # BatchMatMulV2, tf_keras as Einsum; TensorFlow's own profiler counts neither.
    inputs = k.Input((6, 8))
    attention = k.Model(inputs, k.layers.MultiHeadAttention(2, 4)(inputs, inputs))
    projections = 4 * 2 * 6 * 8 * (2 * 4)  # Query, key, value and output.
    scores_and_mix = 2 * 2 * 6 * 6 * (2 * 4)
    assert forward_flops(attention, (6, 8)) == projections + scores_and_mix


def test_the_realistic_models_build_reduced_in_both_kerases_with_the_same_count():
    from trainer.bench import models as bench_models
    from trainer.bench.flops import forward_flops
    from trainer.bench.harness_vs_fit import _global_policy

    modules = [_keras("keras"), _keras("tf_keras")]
    counts = {}
    for name in ("resnet50", "bert_encoder"):
        workload = bench_models.shape(name, reduced=True)
        for k in modules:
            with _global_policy(k, "mixed_float16"):
                model = workload.builder(k)
            features, _ = bench_models.synthetic_data(workload, 2)
            probabilities = np.asarray(model(features, training=False))
            assert probabilities.shape == (2, workload.classes), (name, k.__name__)
            assert probabilities.dtype == np.float32  # The softmax stays in float32.
            assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)
            assert str(k.mixed_precision.global_policy().name) == "float32"  # Restored.
            flops = forward_flops(model, workload.features, workload.feature_dtype)
            counts.setdefault(name, set()).add((model.count_params(), flops))
        assert len(counts[name]) == 1, (name, counts)  # One architecture, written once.
    # BERT-Mini's shape on 64 tokens: per layer the Q, K, V, output projections, the FFN and
    # attention's two products; then the pooler and the classifier.
    width, ffn, tokens = 256, 1024, 64
    layer = 4 * 2 * tokens * width**2 + 2 * 2 * tokens * width * ffn + 2 * 2 * tokens**2 * width
    analytic = 4 * layer + 2 * width * width + 2 * width * 2
    ((_, flops),) = counts["bert_encoder"]
    assert flops == analytic


@pytest.mark.parametrize(
    "name, entry",
    [
        ("NVIDIA H100 80GB HBM3", "H100 SXM"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H200", "H200"),
        ("NVIDIA H100 NVL", None),
        ("NVIDIA A100-SXM4-80GB", None),
    ],
)
def test_gpus_are_matched_to_their_datasheet_peaks(name, entry):
    from trainer.bench.flops import gpu_peak_entry, gpu_peak_flops_per_sec

    assert gpu_peak_entry(name) == entry
    device = {"kind": "GPU", "name": name, "peak_entry": entry}
    bfloat16 = gpu_peak_flops_per_sec(device, "mixed_bfloat16")
    float32 = gpu_peak_flops_per_sec(device, "float32")  # TF32, TensorFlow's default.
    if entry is None:
        assert bfloat16 is None and float32 is None
    else:
        assert bfloat16 == gpu_peak_flops_per_sec(device, "mixed_float16") == 2 * float32
    if entry == "H100 SXM":
        assert (bfloat16, float32) == (989.4e12, 494.7e12)


def test_resnet50_counts_the_multiply_adds_its_paper_gives():
    from trainer.bench import models as bench_models
    from trainer.bench.flops import forward_flops

    workload = bench_models.shape("resnet50")
    model = workload.builder(importlib.import_module("keras"))
    multiply_adds = forward_flops(model, workload.features) / 2
    assert 3.8e9 <= multiply_adds <= 4.1e9  # He et al. 2016: 3.8 x 10^9 at 224x224.
