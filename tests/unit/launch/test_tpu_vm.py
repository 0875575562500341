"""launch.requirements: the project's requirements without TensorFlow, as tpu_vm.sh installs them
(tpu_vm.sh itself runs against a stand-in gcloud in tests/e2e/test_tpu_vm.py)."""

from launch import requirements as reqs


def test_requirements_leave_out_tensorflow_and_keep_the_rest():
    lines = reqs.requirements(exclude=["TensorFlow"])
    names = {reqs.canonical(reqs.Requirement(line).name) for line in lines}
    assert "tensorflow" not in names
    assert {"numpy", "absl-py", "tensorboard", "tensorflow-datasets"} <= names
    assert all(";" not in line for line in lines)
    with_gpu = reqs.requirements(extras=["gpu"])
    assert any(line.startswith("tensorflow[and-cuda]") for line in with_gpu)
    assert not any(line.startswith("tensorflow") and "[" in line for line in lines)
