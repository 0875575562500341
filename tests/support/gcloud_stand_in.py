"""A stand-in `gcloud` for launch/tpu_vm.sh's tests: the `compute tpus` commands the script uses,
with the real commands' synopses (cloud.google.com/sdk/gcloud/reference/compute/tpus), state in a
JSON file, and hosts that are directories on this machine.

`install(directory)` writes a `gcloud` that runs this file and returns the environment to run the
script with. Under `directory`: state.json, calls.jsonl (each call's arguments, one JSON list a
line) and hosts/NODE/w-I/, each host's HOME.

- `tpu-vm create` makes a READY node with as many hosts as Cloud TPU gives the type: v2-v4 and v5p
  count TensorCores, 8 to a host (v4-8 one host, v4-32 four); v5e and v6e count chips, up to 8 on
  one host, else 4 to a host (v5litepod-16 four). Unknown generations get one host per 8.
- `queued-resources create` makes a request WAITING_FOR_RESOURCES; each `describe` then moves it
  on (PROVISIONING, then ACTIVE with its node READY) after state["polls_to_active"] calls.
- `preempt(directory, name)` does to a Spot TPU what Google does: the node PREEMPTED, the queued
  resource SUSPENDED. Deleting a node deletes its hosts' files: a recreated TPU starts empty.
- `tpu-vm scp` copies into each host's HOME; `tpu-vm ssh --command` runs the command with bash on
  the chosen hosts at once, each with HOME its directory, `hostname` its name and `python3` the
  tests' Python, in a session of its own that gets SIGHUP when the command returns (what sshd does
  when the connection ends), so only what was properly detached lives on. Each host's
  `systemctl is-active tpu-runtime` answers what TensorFlow's pod runtimes (`*-pod-*`) run there:
  active, else inactive; `runtime_service(directory, name, worker, state)` changes one host's.
Unknown flags and missing required ones fail as gcloud does (exit 2); missing resources answer
NOT_FOUND (exit 1).
"""

import json
import os
import shutil
import signal
import subprocess
import sys

STATE = "state.json"
CALLS = "calls.jsonl"
QUEUED_STEPS = ("WAITING_FOR_RESOURCES", "PROVISIONING")
RUNTIME_SERVICE = ".stand-in-tpu-runtime"  # In a host's HOME: its tpu-runtime service's state.

# (group, verb): (positional arguments, required flags, optional flags). Value flags are written
# --flag=value, as the script writes them; `True` marks a flag without a value.
COMMANDS = {
    ("tpu-vm", "create"): (1, {"--zone", "--accelerator-type", "--version"}, {"--spot": True}),
    ("tpu-vm", "describe"): (1, {"--zone"}, {"--format": False}),
    ("tpu-vm", "delete"): (1, {"--zone"}, {"--quiet": True, "--async": True}),
    ("tpu-vm", "scp"): (2, {"--zone"}, {"--worker": False}),
    ("tpu-vm", "ssh"): (1, {"--zone"}, {"--worker": False, "--command": False}),
    ("queued-resources", "create"): (
        1,
        {"--zone", "--node-id", "--accelerator-type", "--runtime-version"},
        {"--spot": True, "--async": True},
    ),
    ("queued-resources", "describe"): (1, {"--zone"}, {"--format": False}),
    ("queued-resources", "delete"): (
        1,
        {"--zone"},
        {"--force": True, "--quiet": True, "--async": True},
    ),
}


def install(directory) -> dict:
    """Puts a `gcloud` that runs this stand-in under directory/bin; returns the environment that
    finds it first on PATH."""
    directory = str(directory)
    bin_dir = os.path.join(directory, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    gcloud = os.path.join(bin_dir, "gcloud")
    with open(gcloud, "w") as f:
        f.write(f'#!/bin/sh\nexec "{sys.executable}" "{os.path.abspath(__file__)}" "$@"\n')
    os.chmod(gcloud, 0o755)
    return dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        GCLOUD_STAND_IN_DIR=directory,
        GCLOUD_STAND_IN_PYTHON=sys.executable,
    )


def load(directory) -> dict:
    path = os.path.join(str(directory), STATE)
    if not os.path.exists(path):
        return {"nodes": {}, "queued": {}, "polls_to_active": 1}
    with open(path) as f:
        return json.load(f)


def save(directory, state: dict) -> None:
    path = os.path.join(str(directory), STATE)
    with open(path + ".new", "w") as f:
        json.dump(state, f, indent=1)
    os.replace(path + ".new", path)


def calls(directory) -> list[list[str]]:
    path = os.path.join(str(directory), CALLS)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f]


def host_home(directory, node: str, worker: int) -> str:
    return os.path.join(str(directory), "hosts", node, f"w-{worker}")


def preempt(directory, name: str) -> None:
    state = load(directory)
    state["nodes"][name]["state"] = "PREEMPTED"
    state["queued"][name]["state"]["state"] = "SUSPENDED"
    save(directory, state)


def runtime_service(directory, name: str, worker: int, state: str) -> None:
    """What `systemctl is-active tpu-runtime` answers on one host from now on (failed, ...)."""
    home = host_home(directory, name, worker)
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, RUNTIME_SERVICE), "w") as f:
        f.write(state + "\n")


class GcloudError(Exception):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _parse(group, verb, args):
    positional_count, required, optional = COMMANDS[(group, verb)]
    positional, flags = [], {}
    for arg in args:
        if not arg.startswith("--"):
            positional.append(arg)
            continue
        key, has_value, value = arg.partition("=")
        takes_no_value = optional.get(key) is True
        if key not in required and key not in optional and key != "--project":
            raise GcloudError(f"unrecognized arguments: {arg}", 2)
        if takes_no_value == has_value:
            raise GcloudError(f"argument {key}: expected {'no ' if takes_no_value else ''}value", 2)
        flags[key] = value if has_value else True
    missing = sorted(required - set(flags))
    if missing or len(positional) != positional_count:
        raise GcloudError(f"missing arguments: {missing or 'positional'}; got {args}", 2)
    return positional, flags


def _project(resource: dict, fmt: str) -> str:
    """gcloud's --format=value(a.b,c[0].d): the fields, tab-separated; missing ones empty."""
    if not (fmt.startswith("value(") and fmt.endswith(")")):
        raise GcloudError(f"the stand-in knows only --format=value(...), not {fmt}", 2)
    values = []
    for path in fmt[len("value(") : -1].split(","):
        value = resource
        for part in path.replace("]", "").replace("[", ".").split("."):
            if isinstance(value, list):
                value = value[int(part)] if int(part) < len(value) else None
            elif isinstance(value, dict):
                value = value.get(part)
        values.append("" if value is None or isinstance(value, (dict, list)) else str(value))
    return "\t".join(values)


def _not_found(kind, name, command):
    raise GcloudError(
        f"(gcloud.compute.tpus.{command}) NOT_FOUND: Resource 'projects/p/locations/z/{kind}/"
        f"{name}' was not found"
    )


def _hosts_for(accelerator: str) -> int:
    generation, count = accelerator.rsplit("-", 1)
    if generation in ("v5litepod", "v6e"):  # Chips: one host of up to 8, else 4 to a host.
        return 1 if int(count) <= 8 else int(count) // 4
    return max(1, int(count) // 8)  # TensorCores: 8 to a host.


def _new_node(name, accelerator, runtime) -> dict:
    return {
        "name": name,
        "state": "READY",
        "acceleratorType": accelerator,
        "runtimeVersion": runtime,
        "hosts": _hosts_for(accelerator),
    }


def _workers(node: dict, worker) -> list[int]:
    if worker in (None, True, "all"):
        return list(range(node["hosts"]))
    if not worker.isdigit() or int(worker) >= node["hosts"]:
        raise GcloudError(f"--worker={worker}: the TPU has {node['hosts']} hosts", 2)
    return [int(worker)]


# `systemctl is-active tpu-runtime`: the state, and exit 0 only when active (3 otherwise).
_SYSTEMCTL = """#!/bin/sh
if [ "$1 $2" != "is-active tpu-runtime" ]; then
  echo "stand-in systemctl: only is-active tpu-runtime" >&2
  exit 2
fi
state="$(cat "$HOME/{file}" 2>/dev/null || echo {default})"
echo "$state"
[ "$state" = active ] || exit 3
"""


def _host_environment(directory, node, worker) -> dict:
    name = node["name"]
    home = host_home(directory, name, worker)
    bin_dir = os.path.join(home, ".stand-in-bin")
    os.makedirs(bin_dir, exist_ok=True)
    default = "active" if "-pod-" in node["runtimeVersion"] else "inactive"
    for tool, script in (
        ("hostname", f"#!/bin/sh\necho t1v-n-{name}-w-{worker}\n"),
        ("python3", f'#!/bin/sh\nexec "{os.environ["GCLOUD_STAND_IN_PYTHON"]}" "$@"\n'),
        ("systemctl", _SYSTEMCTL.format(file=RUNTIME_SERVICE, default=default)),
    ):
        path = os.path.join(bin_dir, tool)
        with open(path, "w") as f:
            f.write(script)
        os.chmod(path, 0o755)
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("GCLOUD_STAND_IN", "TF_CONFIG"))
    }
    environment.update(HOME=home, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return environment


def _ssh(directory, node, flags) -> int:
    if node["state"] != "READY":
        raise GcloudError(f"TPU {node['name']} is {node['state']}, not READY: cannot connect")
    sessions = [
        subprocess.Popen(
            ["bash", "-c", flags["--command"]],
            cwd=host_home(directory, node["name"], worker),
            env=_host_environment(directory, node, worker),
            start_new_session=True,
        )
        for worker in _workers(node, flags.get("--worker"))
    ]

    def hang_up(*_):  # The connection ends: every session's process group gets SIGHUP.
        for session in sessions:
            try:
                os.killpg(session.pid, signal.SIGHUP)
            except ProcessLookupError:
                pass

    def interrupted(*_):
        hang_up()
        sys.exit(130)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    codes = [session.wait() for session in sessions]
    hang_up()
    return next((code for code in codes if code), 0)


def run(directory, argv) -> int:
    if argv[:2] != ["compute", "tpus"] or len(argv) < 4 or tuple(argv[2:4]) not in COMMANDS:
        raise GcloudError(f"the stand-in does not know `gcloud {' '.join(argv[:4])}`", 2)
    group, verb = argv[2:4]
    positional, flags = _parse(group, verb, argv[4:])
    state = load(directory)
    nodes, queued = state["nodes"], state["queued"]
    name = positional[0].split(":")[0] if verb != "scp" else positional[1].split(":")[0]
    command = f"{group}.{verb}"

    if group == "tpu-vm" and verb == "create":
        if name in nodes:
            raise GcloudError(f"(gcloud.compute.tpus.{command}) ALREADY_EXISTS: {name}")
        nodes[name] = _new_node(name, flags["--accelerator-type"], flags["--version"])
    elif group == "tpu-vm" and verb in ("describe", "delete", "scp", "ssh"):
        if name not in nodes:
            _not_found("nodes", name, command)
        node = nodes[name]
        if verb == "describe":
            print(_project(node, flags.get("--format", "value(name)")))
        elif verb == "delete":
            del nodes[name]
            shutil.rmtree(os.path.join(str(directory), "hosts", name), ignore_errors=True)
        elif verb == "scp":
            destination = positional[1].split(":", 1)[1].removeprefix("~/")
            for worker in _workers(node, flags.get("--worker")):
                home = host_home(directory, name, worker)
                os.makedirs(home, exist_ok=True)
                shutil.copy(positional[0], os.path.join(home, destination))
        else:
            save(directory, state)
            return _ssh(directory, node, flags)
    elif verb == "create":
        if name in queued:
            raise GcloudError(f"(gcloud.compute.tpus.{command}) ALREADY_EXISTS: {name}")
        node = {"acceleratorType": flags["--accelerator-type"]}
        node["runtimeVersion"] = flags["--runtime-version"]
        queued[name] = {
            "name": name,
            "state": {"state": QUEUED_STEPS[0]},
            "tpu": {"nodeSpec": [{"nodeId": flags["--node-id"], "node": node}]},
            "polls_left": state["polls_to_active"],
            **({"spot": {}} if flags.get("--spot") else {}),
        }
    else:
        if name not in queued:
            _not_found("queuedResources", name, command)
        request = queued[name]
        if verb == "describe":
            if request["state"]["state"] in QUEUED_STEPS:
                request["polls_left"] -= 1
                if request["polls_left"] <= 0:
                    request["state"]["state"] = "ACTIVE"
                    spec = request["tpu"]["nodeSpec"][0]
                    nodes[spec["nodeId"]] = _new_node(
                        spec["nodeId"],
                        spec["node"]["acceleratorType"],
                        spec["node"]["runtimeVersion"],
                    )
                else:
                    request["state"]["state"] = QUEUED_STEPS[1]
            print(_project(request, flags.get("--format", "value(name)")))
        else:
            node_id = request["tpu"]["nodeSpec"][0]["nodeId"]
            if node_id in nodes and not flags.get("--force"):
                raise GcloudError(
                    f"FAILED_PRECONDITION: {name} has a node: delete it or use --force"
                )
            nodes.pop(node_id, None)
            shutil.rmtree(os.path.join(str(directory), "hosts", node_id), ignore_errors=True)
            del queued[name]
    save(directory, state)
    return 0


def main() -> int:
    directory = os.environ["GCLOUD_STAND_IN_DIR"]
    with open(os.path.join(directory, CALLS), "a") as f:
        f.write(json.dumps(sys.argv[1:]) + "\n")
    try:
        return run(directory, sys.argv[1:])
    except GcloudError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return error.code


if __name__ == "__main__":
    sys.exit(main())
