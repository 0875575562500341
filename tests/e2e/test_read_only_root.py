"""The trainer needs nothing writable but the emptyDirs its pods mount (launch/k8s/pods.py): a
short `python -m trainer.main` run in a mount namespace where, as in a pod with
readOnlyRootFilesystem, every directory is read-only except the pod's emptyDirs.

The pod's filesystem is mirrored under the test's directory POD: POD/home/trainer is the image's
home, POD/<mount path> each emptyDir of a rendered worker pod. Inside the namespace (`unshare
--mount`, through a user namespace when not root) POD/home is bound over /home and each emptyDir
at its mount path (/tmp among them), then every other mount (the root, the home) is remounted
read-only. A write anywhere else fails with EROFS, whether the trainer reports it or a library
swallows it; strace, where installed, lists the swallowed ones too.

`python -m tests.e2e.test_read_only_root --bind=HOST:PATH:ro|rw... -- COMMAND` is the namespace's
entry point: it makes the mounts, then runs COMMAND.
"""

import ctypes
import functools
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from launch.kubernetes import manifests
from tests.support.helpers import REPO, assert_ok

_HOME = "/home/trainer"  # The Dockerfile's user's home, where the image keeps the code (app/).
_STRACE_LOG = "strace.log"  # Written to /tmp, where the trainer may write anyway.
# Asking whether a directory is writable is not writing to it (Keras asks it of the home).
_PROBES = ("access(", "faccessat(", "faccessat2(")
# Variables that would move a library's writes; the pod sets none of them.
_UNSET = {"TMPDIR", "TEMP", "TMP", "KERAS_HOME", "MPLCONFIGDIR", "TFDS_DATA_DIR", "TF_CONFIG"}
_UNSET_PREFIXES = ("XDG_", "CUDA_CACHE_")

# mount(2) flags.
_MS_RDONLY, _MS_REMOUNT, _MS_BIND = 1, 32, 4096
_KEPT_FLAGS = {  # Kept on the read-only remount: a user namespace may not clear them.
    "nosuid": 2,
    "nodev": 4,
    "noexec": 8,
    "noatime": 1024,
    "nodiratime": 2048,
    "relatime": 1 << 21,
    "strictatime": 1 << 24,
}
_LEFT_ALONE = ("/proc", "/sys", "/dev")  # The runtime's own mounts, in a pod as here.


def _unshare() -> list[str]:
    command = ["unshare", "--mount", "--propagation=private"]
    return command if os.geteuid() == 0 else [*command, "--map-root-user"]


def _why_no_sandbox() -> str:
    """Why this machine cannot make the read-only namespace; '' when it can."""
    if not sys.platform.startswith("linux") or not shutil.which("unshare"):
        return "needs Linux and unshare(1) from util-linux"
    if not os.path.isdir("/home"):
        return "needs a /home directory to bind the image's home on"
    tried = subprocess.run([*_unshare(), "true"], capture_output=True, text=True)
    if tried.returncode:
        return f"cannot make a mount namespace here ({tried.stderr.strip()})"
    return ""


# -- The test's side: the pod's directories, the run, what it refused. ----------------------------


def _empty_dirs() -> list[str]:
    """The writable emptyDirs' mount paths of a CPU worker pod, as launch.kubernetes renders it."""
    _, job = manifests(name="digits", image="registry.example/trainer:1", workdir="gs://b/r")
    spec = job["spec"]["template"]["spec"]
    empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
    mounts = spec["containers"][0]["volumeMounts"]
    return [m["mountPath"] for m in mounts if m["name"] in empty_dirs and not m.get("readOnly")]


def _mirror(pod, path: str) -> str:
    """Where the pod's `path` lies on this machine."""
    return os.path.join(pod, path.lstrip("/"))


def _kept_visible(targets: list[str]) -> list[str]:
    """The checkout and the Python installation where a stand-in would hide them (a checkout
    under /tmp or /home, as CI's may be): bound again, read-only, at their own paths, as the
    image has its code and Python in place."""
    needed = sorted({os.path.realpath(p) for p in (REPO, sys.prefix, sys.base_prefix)})
    hidden = [p for p in needed if any(_is_under(p, t) for t in targets)]
    return [p for p in hidden if not any(p != q and _is_under(p, q) for q in hidden)]


def _run_as_in_the_pod(pod, command: list[str], *, strace: bool) -> subprocess.CompletedProcess:
    """Runs `command` from the checkout with only the pod's emptyDirs (mirrored under `pod`)
    writable, HOME the image's, and none of the variables that move a library's writes."""
    os.makedirs(_mirror(pod, _HOME))
    binds = [f"--bind={_mirror(pod, '/home')}:/home:ro"]
    for path in _empty_dirs():  # The runtime makes each mount point, then mounts the volume.
        os.makedirs(_mirror(pod, path), exist_ok=True)
        binds.append(f"--bind={_mirror(pod, path)}:{path}:rw")
    for path in _kept_visible(["/home", *_empty_dirs()]):
        os.makedirs(_mirror(pod, path), exist_ok=True)  # Its mount point in the stand-in.
        binds.append(f"--bind={path}:{path}:ro")
    if strace:  # Every file syscall that failed, to find the refused writes a library swallows.
        command = [*_TRACER, f"/tmp/{_STRACE_LOG}", *command]
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in _UNSET and not name.startswith(_UNSET_PREFIXES)
    }
    # As the Dockerfile sets it: no __pycache__ written beside the installed code.
    environ.update(HOME=_HOME, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    entry = [sys.executable, "-m", "tests.e2e.test_read_only_root", *binds, "--"]
    return subprocess.run(
        [*_unshare(), *entry, *command],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _refused_writes(pod) -> list[str]:
    """The syscalls strace saw fail with EROFS, but for questions (access) that write nothing."""
    with open(_mirror(pod, f"/tmp/{_STRACE_LOG}")) as f:
        calls = [line.split(None, 1)[-1] for line in f if "EROFS" in line]
    return [call.strip() for call in calls if not call.startswith(_PROBES)]


def _files_off_the_empty_dirs(pod) -> list[str]:
    """What lies under `pod` outside the emptyDirs, but for the mount points made for them."""
    volumes = [_mirror(pod, path) for path in _empty_dirs()]
    volumes += [_mirror(pod, path) for path in _kept_visible(["/home", *_empty_dirs()])]
    found = []
    for directory, subdirectories, files in os.walk(pod):
        if directory in volumes:
            subdirectories.clear()  # Anything in an emptyDir is allowed.
            continue
        for name in files + subdirectories:
            path = os.path.join(directory, name)
            if not any(v == path or v.startswith(path + os.sep) for v in volumes):
                found.append(os.path.relpath(path, pod))
    return found


_TRACER = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=%file", "-e", "status=failed", "-o"]


@functools.cache
def _strace_works() -> bool:
    """strace with what the run asks of it (--seccomp-bpf: 5.3 or later; stops only at file
    syscalls, which halves the run's time under it)."""
    if not shutil.which("strace"):
        return False
    tried = subprocess.run([*_TRACER, "/dev/null", "true"], capture_output=True)
    return tried.returncode == 0


@pytest.fixture
def pod(tmp_path):
    """The directory the pod's filesystem is mirrored in; the test skips where no namespace can
    be made."""
    why = _why_no_sandbox()
    if why:
        pytest.skip(why)
    return str(tmp_path / "pod")


def test_the_trainer_writes_only_to_the_pods_empty_dirs(pod):
    process = _run_as_in_the_pod(
        pod,
        [
            sys.executable,
            "-m",
            "trainer.main",
            "--strategy=one_device",
            "--workdir=/tmp/run",  # Stands in for gs://; the Dockerfile's example uses /tmp/run.
            "--config.train.steps=4",
        ],
        strace=_strace_works(),
    )
    assert_ok(process)
    with open(_mirror(pod, "/tmp/run/results.json")) as f:
        assert json.load(f)["step"] == 4
    # What a library reports and carries on from: matplotlib's "mkdir -p failed ... [Errno 30]
    # Read-only file system", or its "... is not a writable directory".
    for complaint in ("Read-only file system", "not a writable directory"):
        assert complaint not in process.stderr, process.stderr[-4000:]
    assert _files_off_the_empty_dirs(pod) == []
    if _strace_works():
        assert _refused_writes(pod) == [], "writes outside the pod's emptyDirs: mount them"


_TRY_WRITES = """
import errno, json, os, sys
tried = {}
for path in sys.argv[1:]:
    try:
        with open(path, "w") as f:
            f.write("x")
        tried[path] = "written"
    except OSError as e:  # Swallowed, as a library that falls back would.
        tried[path] = errno.errorcode[e.errno]
print(json.dumps(tried))
"""


def test_the_namespace_refuses_every_write_but_to_the_empty_dirs(pod):
    refused = [f"{_HOME}/x", os.path.join(REPO, "x"), os.path.join(sys.prefix, "x"), "/x"]
    allowed = [os.path.join(path, "x") for path in _empty_dirs()]
    process = _run_as_in_the_pod(
        pod, [sys.executable, "-c", _TRY_WRITES, *refused, *allowed], strace=_strace_works()
    )
    assert_ok(process)
    tried = json.loads(process.stdout)
    assert tried == {**dict.fromkeys(refused, "EROFS"), **dict.fromkeys(allowed, "written")}
    for path in refused:
        assert not os.path.exists(path)
    if _strace_works():  # The script swallowed each refusal; strace saw them all the same.
        refusals = _refused_writes(pod)
        assert len(refusals) == len(refused) and all(
            any(f'"{path}"' in call for call in refusals) for path in refused
        ), refusals


# -- The namespace's side: bind, remount read-only, run. ------------------------------------------


def _mount(source: str, target: str, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
    if libc.mount(source.encode(), target.encode(), None, flags, None) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount {source} on {target}: {os.strerror(code)}")


def _mounts() -> list[tuple[str, str]]:
    """(mount point, per-mount options) of every mount in this namespace, as the kernel lists
    them (a space in a path is written \\040)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            found.append((point, fields[5]))
    return found


def _is_under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _bind(binds: list[tuple[str, str, bool]]) -> None:
    """Binds each source at its target, shallowest target first (an emptyDir under the home
    lands on the home's stand-in). The sources are opened before any mount hides them."""
    opened = {source: os.open(source, os.O_PATH | os.O_DIRECTORY) for source, _, _ in binds}
    for source, target, _ in sorted(binds, key=lambda b: b[1].count("/")):
        _mount(f"/proc/self/fd/{opened[source]}", target, _MS_BIND)


def _remount_read_only(writable: list[str], read_only: list[str]) -> None:
    """Every mount read-only but the runtime's and the writable ones (a read-only bind inside a
    writable one, the checkout kept visible under /tmp, is remounted read-only too)."""
    for point, options in _mounts():
        if any(_is_under(point, d) for d in _LEFT_ALONE):
            continue
        if point not in read_only and any(_is_under(point, d) for d in writable):
            continue
        kept = sum(_KEPT_FLAGS.get(option, 0) for option in options.split(","))
        try:
            _mount("none", point, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | kept)
        except FileNotFoundError:
            pass  # Hidden under a bind (a mount of this machine's /home): out of reach anyway.


def _check_read_only(binds: list[tuple[str, str, bool]]) -> None:
    """Stops here, before the command runs, if a mount did not take."""
    for path, writable in [("/", False), *((target, rw) for _, target, rw in binds)]:
        if bool(os.statvfs(path).f_flag & os.ST_RDONLY) == writable:
            sys.exit(f"sandbox: {path} should be {'writable' if writable else 'read-only'}")


def _enter(argv: list[str]) -> None:
    split = argv.index("--")
    binds = []
    for spec in argv[:split]:
        source, target, mode = spec.removeprefix("--bind=").rsplit(":", 2)
        binds.append((source, target, mode == "rw"))
    _bind(binds)
    _remount_read_only(
        [target for _, target, rw in binds if rw], [target for _, target, rw in binds if not rw]
    )
    _check_read_only(binds)
    command = argv[split + 1 :]
    os.execvp(command[0], command)


if __name__ == "__main__":
    _enter(sys.argv[1:])
