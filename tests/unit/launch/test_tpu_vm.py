"""launch/tpu_vm.sh against a stand-in `gcloud` (tests/support/gcloud_stand_in.py: the same commands
and flags, state in a file, hosts as directories whose commands really run), and
launch.requirements.
"""

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
