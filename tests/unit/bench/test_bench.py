"""The benchmark's parts: bad inputs named before any work, FLOP counts against analytic counts and
ResNet-50's paper, GPU peaks, the realistic models built small with both Kerases (the benchmark
end to end is tests/e2e/test_bench.py)."""

import importlib

import numpy as np
import pytest


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
