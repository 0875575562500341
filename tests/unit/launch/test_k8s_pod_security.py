"""Every pod launch.kubernetes renders passes the "restricted" Pod Security Standard, so it runs in
a namespace labelled pod-security.kubernetes.io/enforce=restricted.

The rules are those of the Pod Security Standards page (kubernetes.io, "Restricted" includes
"Baseline"), as the admission controller implements them (kubernetes/pod-security-admission,
policy/check_*.go, policy version `latest`). Each rule below names its control; each has a test
pod that breaks it, so a checker that passes everything fails here.
"""

import copy

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
