"""Every pod launch.kubernetes renders passes the "restricted" Pod Security Standard, so it runs in
a namespace labelled pod-security.kubernetes.io/enforce=restricted.

The rules are those of the Pod Security Standards page (kubernetes.io, "Restricted" includes
"Baseline"), as the admission controller implements them (kubernetes/pod-security-admission,
policy/check_*.go, policy version `latest`). Each rule below names its control; each has a test
pod that breaks it, so a checker that passes everything fails here.

Beyond the standard, every pod mounts no Kubernetes API token and runs on a read-only root
filesystem, with an emptyDir under every path the trainer writes (_TRAINER_WRITES);
tests/e2e/test_read_only_root.py trains with nothing else writable.
"""

import copy
import posixpath
import re

import pytest

from launch.kubernetes import manifests, sweep_manifests
from tests.support.k8s_schemas import pod_templates
from tests.unit.launch.test_k8s_shapes import SHAPES

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

_BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip

_SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
}  # fmt: skip

_RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
    "projected", "secret",
}  # fmt: skip

_SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t"}


def restricted_violations(template: dict) -> list[str]:
    """The controls of the restricted profile that a PodTemplateSpec breaks, by name."""
    metadata, spec = template.get("metadata", {}), template["spec"]
    pod_context = spec.get("securityContext", {})
    containers = [c for key in _CONTAINER_LISTS for c in spec.get(key, [])]
    contexts = [c.get("securityContext", {}) for c in containers]
    found = []

    def check(control: str, ok: bool) -> None:
        if not ok:
            found.append(control)

    # Baseline.
    check(
        "HostProcess",
        not any(c.get("windowsOptions", {}).get("hostProcess") for c in [pod_context, *contexts]),
    )
    check(
        "Host Namespaces",
        not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")),
    )
    check("Privileged Containers", not any(c.get("privileged") for c in contexts))
    check(
        "Capabilities (baseline)",
        all(
            set(c.get("capabilities", {}).get("add", [])) <= _BASELINE_CAPABILITIES
            for c in contexts
        ),
    )
    check("HostPath Volumes", not any("hostPath" in v for v in spec.get("volumes", [])))
    check(
        "Host Ports",
        not any(p.get("hostPort", 0) for c in containers for p in c.get("ports", [])),
    )
    check(
        "Host Probes / Lifecycle Hooks",
        not any(
            handler.get(kind, {}).get("host")
            for c in containers
            for handler in [
                c.get(probe, {}) for probe in ("livenessProbe", "readinessProbe", "startupProbe")
            ]
            + [c.get("lifecycle", {}).get(hook, {}) for hook in ("postStart", "preStop")]
            for kind in ("httpGet", "tcpSocket")
        ),
    )
    annotations = metadata.get("annotations", {})
    check(
        "AppArmor",
        all(
            value in ("", "runtime/default") or value.startswith("localhost/")
            for key, value in annotations.items()
            if key.startswith("container.apparmor.security.beta.kubernetes.io/")
        )
        and all(
            c.get("appArmorProfile", {}).get("type", "RuntimeDefault")
            in ("RuntimeDefault", "Localhost")
            for c in [pod_context, *contexts]
        ),
    )
    check(
        "SELinux",
        all(
            c.get("seLinuxOptions", {}).get("type", "") in _SELINUX_TYPES
            and not c.get("seLinuxOptions", {}).get("user")
            and not c.get("seLinuxOptions", {}).get("role")
            for c in [pod_context, *contexts]
        ),
    )
    check("/proc Mount Type", all(c.get("procMount", "Default") == "Default" for c in contexts))
    check(
        "Sysctls",
        all(s["name"] in _SAFE_SYSCTLS for s in pod_context.get("sysctls", [])),
    )
    # Restricted.
    check(
        "Volume Types",
        all(set(v) - {"name"} <= _RESTRICTED_VOLUMES for v in spec.get("volumes", [])),
    )
    check(
        "Privilege Escalation",
        all(c.get("allowPrivilegeEscalation") is False for c in contexts),
    )
    pod_non_root = pod_context.get("runAsNonRoot") is True
    check(
        "Running as Non-root",
        all(c.get("runAsNonRoot", pod_non_root) is True for c in contexts) and bool(contexts),
    )
    check(
        "Running as Non-root user",
        all(c.get("runAsUser", 1) != 0 for c in [pod_context, *contexts]),
    )
    pod_seccomp = pod_context.get("seccompProfile", {}).get("type")
    check(
        "Seccomp",
        all(
            c.get("seccompProfile", {}).get("type", pod_seccomp) in ("RuntimeDefault", "Localhost")
            for c in contexts
        ),
    )
    check(
        "Capabilities",
        all(
            "ALL" in c.get("capabilities", {}).get("drop", [])
            and set(c.get("capabilities", {}).get("add", [])) <= {"NET_BIND_SERVICE"}
            for c in contexts
        ),
    )
    return found


def _every_rendered_pod():
    for shape, render in sorted(SHAPES.items()):
        for document in render():
            for template in pod_templates(document):
                yield shape, document["kind"], template


def test_every_rendered_pod_is_restricted():
    seen = set()
    for shape, kind, template in _every_rendered_pod():
        assert restricted_violations(template) == [], (shape, kind)
        seen.add(kind)
    assert seen == {"Job", "JobSet", "TFJob"}


def test_the_pods_run_as_the_dockerfiles_user():
    _, job = manifests(name="d", image="r/t:1", workdir="gs://b/r")
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["runAsGroup"] == 1000
    (job,) = sweep_manifests(
        name="s", image="r/t:1", workdir="gs://b/s", pods=1, storage_secret="db"
    )
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def _container(template):
    return template["spec"]["containers"][0]


_BREAKS = {
    "HostProcess": lambda t: t["spec"]["securityContext"].update(
        windowsOptions={"hostProcess": True}
    ),
    "Host Namespaces": lambda t: t["spec"].update(hostNetwork=True),
    "Privileged Containers": lambda t: _container(t)["securityContext"].update(privileged=True),
    "Capabilities (baseline)": lambda t: _container(t)["securityContext"]["capabilities"].update(
        add=["SYS_ADMIN"]
    ),
    "HostPath Volumes": lambda t: t["spec"].update(
        volumes=[{"name": "h", "hostPath": {"path": "/"}}]
    ),
    "Host Ports": lambda t: _container(t).update(ports=[{"containerPort": 1, "hostPort": 1}]),
    "Host Probes / Lifecycle Hooks": lambda t: _container(t).update(
        livenessProbe={"httpGet": {"host": "example.com", "port": 80}}
    ),
    "AppArmor": lambda t: t["spec"]["securityContext"].update(
        appArmorProfile={"type": "Unconfined"}
    ),
    "SELinux": lambda t: _container(t)["securityContext"].update(
        seLinuxOptions={"user": "system_u"}
    ),
    "/proc Mount Type": lambda t: _container(t)["securityContext"].update(procMount="Unmasked"),
    "Sysctls": lambda t: t["spec"]["securityContext"].update(
        sysctls=[{"name": "kernel.msgmax", "value": "1"}]
    ),
    "Volume Types": lambda t: t["spec"].update(
        volumes=[{"name": "n", "nfs": {"server": "s", "path": "/"}}]
    ),
    "Privilege Escalation": lambda t: _container(t)["securityContext"].pop(
        "allowPrivilegeEscalation"
    ),
    "Running as Non-root": lambda t: _container(t)["securityContext"].update(runAsNonRoot=False),
    "Running as Non-root user": lambda t: _container(t)["securityContext"].update(runAsUser=0),
    "Seccomp": lambda t: t["spec"]["securityContext"].pop("seccompProfile"),
    "Capabilities": lambda t: _container(t)["securityContext"].pop("capabilities"),
}


@pytest.mark.parametrize("control", sorted(_BREAKS))
def test_the_checker_catches_each_control(control):
    _, job = manifests(name="d", image="r/t:1", workdir="gs://b/r", gpus_per_worker=1)
    template = copy.deepcopy(job["spec"]["template"])
    _BREAKS[control](template)
    assert control in restricted_violations(template)


# What the trainer and its libraries write at run time, on any pod (one example path each, with
# who writes it). /dev/shm is left out: the runtime mounts a tmpfs there even on a read-only root,
# and GPU pods a bigger emptyDir (test_k8s_shapes.py).
_TRAINER_WRITES = {
    "/tmp/trainer/digits_mlp/results.json": "the default workdir, $TMPDIR/trainer/<config>",
    "/tmp/tmpa1b2c3/saved_model/saved_model.pb": "export's scratch directory (tempfile)",
    "/tmp/trainer-worker-x1y2/checkpoints/checkpoint": "a non-chief worker's scratch workdir",
    "/tmp/sweep_trial_d4e5/0007/results.json": "a sweep trial's local copy (trainer/sweep/)",
    "/tmp/.keras/keras.json": "Keras 3's home, /tmp/.keras when the home is read-only",
    "/home/trainer/.keras/datasets/housing.csv": "trainer/data/csv_source.py's download cache",
    "/home/trainer/.keras/keras.json": "the config of TensorFlow's own Keras (tf.keras)",
    "/home/trainer/.config/matplotlib": "matplotlib's config directory, made at import",
    "/home/trainer/.cache/matplotlib/fontlist-v390.json": "matplotlib's font cache",
}
_GPU_WRITES = {"/home/trainer/.nv/ComputeCache/index": "CUDA's JIT cache"}

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def unwritable_paths(template: dict, paths) -> list[str]:
    """The `paths` that the container cannot write: not under a writable emptyDir mount (the
    deepest mount holding a path is the one it lands on)."""
    spec = template["spec"]
    empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    mounts = spec["containers"][0].get("volumeMounts", [])
    found = []
    for path in paths:
        holding = [m for m in mounts if _is_under(path, m["mountPath"])]
        deepest = max(holding, key=lambda m: len(m["mountPath"]), default=None)
        if not deepest or deepest["name"] not in empty_dirs or deepest.get("readOnly"):
            found.append(path)
    return found


def _is_under(path: str, directory: str) -> bool:
    return posixpath.commonpath([path, directory]) == directory


def _takes_gpus(template: dict) -> bool:
    return "nvidia.com/gpu" in template["spec"]["containers"][0]["resources"]["limits"]


def test_no_pod_mounts_a_kubernetes_api_token():
    for shape, kind, template in _every_rendered_pod():
        assert template["spec"]["automountServiceAccountToken"] is False, (shape, kind)


def test_every_container_has_a_read_only_root_filesystem():
    for shape, kind, template in _every_rendered_pod():
        containers = [c for key in _CONTAINER_LISTS for c in template["spec"].get(key, [])]
        assert containers, (shape, kind)
        for container in containers:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, (shape, kind)


def test_every_path_the_trainer_writes_is_on_a_mounted_empty_dir():
    seen_gpus = False
    for shape, kind, template in _every_rendered_pod():
        writes = dict(_TRAINER_WRITES)
        if _takes_gpus(template):
            writes.update(_GPU_WRITES)
            seen_gpus = True
        assert unwritable_paths(template, writes) == [], (shape, kind)
    assert seen_gpus


def test_the_volumes_have_distinct_dns_label_names_and_mount_points():
    for shape, kind, template in _every_rendered_pod():
        spec = template["spec"]
        names = [v["name"] for v in spec["volumes"]]
        mounts = spec["containers"][0]["volumeMounts"]
        assert all(_DNS_LABEL.fullmatch(name) for name in names), (shape, kind, names)
        assert len(set(names)) == len(names), (shape, kind, names)
        assert sorted(m["name"] for m in mounts) == sorted(names), (shape, kind)
        points = [m["mountPath"] for m in mounts]
        assert len(set(points)) == len(points), (shape, kind, points)


def test_no_mount_hides_the_code_in_the_home():
    # An emptyDir on /home/trainer would hide the code: the Dockerfile's WORKDIR is below it.
    for shape, kind, template in _every_rendered_pod():
        points = [m["mountPath"] for m in template["spec"]["containers"][0]["volumeMounts"]]
        assert not any(_is_under("/home/trainer/app", point) for point in points), (shape, kind)


def _mount_at(spec: dict, point: str) -> dict:
    (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == point]
    return mount


def _volume_at(spec: dict, point: str) -> dict:
    name = _mount_at(spec, point)["name"]
    (volume,) = [v for v in spec["volumes"] if v["name"] == name]
    return volume


def _config_map_instead(spec: dict, point: str) -> None:
    volume = _volume_at(spec, point)
    del volume["emptyDir"]
    volume["configMap"] = {"name": "settings"}  # Read-only, whatever the mount says.


_MOUNT_BREAKS = {
    "unmounted": lambda spec, point: spec["containers"][0]["volumeMounts"].remove(
        _mount_at(spec, point)
    ),
    "read-only": lambda spec, point: _mount_at(spec, point).update(readOnly=True),
    "not an emptyDir": _config_map_instead,
}


@pytest.mark.parametrize("point", ["/tmp", "/home/trainer/.cache"])
@pytest.mark.parametrize("break_", sorted(_MOUNT_BREAKS))
def test_the_write_check_catches_a_mount_taken_away(break_, point):
    _, job = manifests(name="d", image="r/t:1", workdir="gs://b/r")
    template = copy.deepcopy(job["spec"]["template"])
    path = f"{point}/matplotlib/fontlist.json"
    assert unwritable_paths(template, [path]) == []
    _MOUNT_BREAKS[break_](template["spec"], point)
    assert unwritable_paths(template, [path]) == [path]


def test_the_write_check_holds_a_path_to_its_parent_directories():
    _, job = manifests(name="d", image="r/t:1", workdir="gs://b/r")
    paths = ["/home/trainer/.cachex/a", "/home/trainer/a", "/tmpa", "/home/trainer/.cache", "/tmp"]
    assert unwritable_paths(job["spec"]["template"], paths) == paths[:3]
