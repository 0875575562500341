"""FLOPs per example of a model, the device's peak FLOP/s, and model FLOPs utilization (MFU).

The count is that of the matrix products and convolutions in the forward pass, read from the
graph TensorFlow traces for one example, 2 FLOPs per multiply-add: MatMul, BatchMatMul, Einsum,
Conv2D/Conv3D and DepthwiseConv2dNative. Elementwise ops, normalization, softmax and pooling are
left out, as in the usual MFU convention (they are a few percent of the FLOPs and do not run on
the matrix units the peak counts). TensorFlow's own profiler (`tf.compat.v1.profiler` with
`float_operation()`) has no count for Einsum, where tf_keras's MultiHeadAttention runs its
projections and attention: on BERT-base it saw 14.6 GFLOPs per sequence with tf_keras and 22.4
with Keras 3 (whose einsums trace as BatchMatMulV2, plus elementwise ops); the count here gives
22.35 with both, the analytic value. A training step is counted as 3 forward passes (the
backward pass computes gradients for both the activations and the weights), the convention of
Kaplan et al. 2020 and of PaLM's MFU.

Peaks: dense (no 2:4 sparsity) datasheet figures for the GPUs below, by the compute dtype of the
matrix units; TensorFlow runs float32 matrix products on these GPUs in TF32 (its default since
2.4, `tf.config.experimental.enable_tensor_float_32_execution`), so float32's peak is TF32's
then. On a CPU the peak is a measured matmul ceiling (`matmul_flops_per_sec`) in the compute
dtype of the precision: a CPU with AVX512_BF16 multiplies bfloat16 about twice as fast as float32.
Sources are in benchmarks/README.md.
"""

import math
import time

import numpy as np

# Dense peak FLOP/s by GPU and matrix dtype ("tf32": float32 on tensor cores).
GPU_PEAKS = {
    "H100 SXM": {"float32": 66.9e12, "tf32": 494.7e12, "bfloat16": 989.4e12, "float16": 989.4e12},
    "H100 PCIe": {"float32": 51e12, "tf32": 378e12, "bfloat16": 756e12, "float16": 756e12},
    "H200": {"float32": 66.9e12, "tf32": 494.7e12, "bfloat16": 989.4e12, "float16": 989.4e12},
}
COMPUTE_DTYPES = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
TRAIN_FLOPS_PER_FORWARD = 3


def forward_flops(model, features: tuple[int, ...], dtype: str = "float32") -> int:
    """FLOPs of one example's forward pass through `model` (Keras 3 or tf_keras), counted on
    the graph of `model(x, training=False)` traced for a batch of one."""
    import tensorflow as tf

    forward = tf.function(lambda x: model(x, training=False))
    graph = forward.get_concrete_function(tf.TensorSpec((1, *features), dtype)).graph
    return sum(op_flops(op) for op in graph.get_operations())


def op_flops(op) -> int:
    """2 x the multiply-adds of one matrix product or convolution op; 0 for any other op."""
    kind = op.type
    if kind in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        transposed = op.get_attr("transpose_a" if kind == "MatMul" else "adj_x")
        shape = _static(op, op.inputs[0])
        inner = shape[-2] if transposed else shape[-1]
        return 2 * _elements(op, op.outputs[0]) * inner
    if kind in ("Conv2D", "Conv3D"):  # Filter: spatial..., in (per group), out.
        return 2 * _elements(op, op.outputs[0]) * math.prod(_static(op, op.inputs[1])[:-1])
    if kind == "DepthwiseConv2dNative":  # Filter: height, width, in, multiplier.
        return 2 * _elements(op, op.outputs[0]) * math.prod(_static(op, op.inputs[1])[:2])
    if kind == "Einsum" and len(op.inputs) == 2:
        return 2 * _einsum_products(op)
    return 0


def _einsum_products(op) -> int:
    """Multiply-adds of a two-operand einsum: the product of the sizes of all its indices."""
    equation = op.get_attr("equation").decode().replace(" ", "")
    operands = equation.split("->")[0].split(",")
    sizes = {}
    for labels, tensor in zip(operands, op.inputs, strict=True):
        shape = _static(op, tensor)
        if "..." in labels:  # Name the broadcast dimensions, aligned from the right.
            head, tail = labels.split("...")
            extra = len(shape) - len(head) - len(tail)
            labels = [*head, *(f"...{i}" for i in range(extra, 0, -1)), *tail]
        for label, size in zip(labels, shape, strict=True):
            sizes[label] = max(size, sizes.get(label, 1))
    return math.prod(sizes.values())


def _static(op, tensor) -> list[int]:
    dims = tensor.shape.as_list()
    if None in dims:
        raise ValueError(
            f"Cannot count the FLOPs of {op.type} op {op.name!r}: shape {dims} is not fully "
            "known. Trace the model for inputs of a fixed shape."
        )
    return dims


def _elements(op, tensor) -> int:
    return math.prod(_static(op, tensor))


def matmul_flops_per_sec(dtype: str = "float32", *, size: int = 0, seconds: float = 2.0) -> float:
    """The best FLOP/s of `size` x `size` matrix products on the default device (the CPU's
    ceiling that MFU divides by there). `size` 0 picks 2048 on a CPU, 8192 on a GPU."""
    import tensorflow as tf

    gpu = bool(tf.config.list_physical_devices("GPU"))
    size = size or (8192 if gpu else 2048)
    rng = np.random.default_rng(0)
    a, b = (
        tf.constant(rng.standard_normal((size, size), dtype=np.float32), dtype=dtype)
        for _ in range(2)
    )
    products = 4 if gpu else 1

    @tf.function(autograph=False)
    def multiply(a, b):
        total = tf.zeros((), tf.float32)
        for _ in range(products):  # Independent products; one scalar back to the host.
            total += tf.cast(tf.matmul(a, b)[0, 0], tf.float32)
        return total

    multiply(a, b).numpy()  # Trace and warm up.
    best, began = math.inf, time.perf_counter()
    while time.perf_counter() - began < seconds or best == math.inf:
        start = time.perf_counter()
        multiply(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return products * 2 * size**3 / best


def device_description() -> dict:
    """The device the benchmark runs on: kind (GPU or CPU), name and, for GPUs in GPU_PEAKS,
    which entry applies."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return {"kind": "CPU", "name": _cpu_name(), "peak_entry": None}
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "unknown GPU")
    return {"kind": "GPU", "name": name, "count": len(gpus), "peak_entry": gpu_peak_entry(name)}


def gpu_peak_entry(name: str) -> str | None:
    """The GPU_PEAKS entry for a CUDA device name ('NVIDIA H100 80GB HBM3' is an SXM part)."""
    upper = name.upper()
    if "NVL" in upper:  # H100 NVL and H200 NVL run at other clocks: no entry.
        return None
    if "H200" in upper:
        return "H200"
    if "H100" in upper:
        return "H100 PCIe" if "PCIE" in upper else "H100 SXM"
    return None


def gpu_peak_flops_per_sec(device: dict, precision: str) -> float | None:
    """Datasheet peak FLOP/s for `precision` (a Keras policy name) on the GPU `device`
    (device_description); None for a GPU without an entry in GPU_PEAKS."""
    if device["peak_entry"] is None:
        return None
    import tensorflow as tf

    dtype = COMPUTE_DTYPES[precision]
    if dtype == "float32" and tf.config.experimental.tensor_float_32_execution_enabled():
        dtype = "tf32"
    return GPU_PEAKS[device["peak_entry"]][dtype]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    cores = len(names)
    return f"{names[0]} ({cores} cores)" if names else "CPU"
