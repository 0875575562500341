#!/usr/bin/env bash
# Cloud TPU VMs and slices: create one, train on it from this checkout, read its logs.
#
#   launch/tpu_vm.sh create --name=my-tpu --zone=us-central2-b --accelerator=v4-8 [--spot]
#   launch/tpu_vm.sh run --name=my-tpu --zone=us-central2-b --workdir=gs://BUCKET/runs/digits \
#       [--recreate_if_preempted] -- --config=configs/digits_mlp.py --config.train.steps=5000
#   launch/tpu_vm.sh status --name=my-tpu --zone=us-central2-b
#   launch/tpu_vm.sh logs --name=my-tpu --zone=us-central2-b [--worker=0|all|N] [--lines=50] [--follow]
#   launch/tpu_vm.sh delete --name=my-tpu --zone=us-central2-b
#
# create  --version (the TPU runtime) follows --accelerator: v2-*, v3-*, v4-* tpu-ubuntu2204-base;
#         v5litepod-* (v5e) v2-alpha-tpuv5-lite; v5p-* v2-alpha-tpuv5; v6e-* v2-alpha-tpuv6e; a
#         slice of several hosts (v4-16, v5litepod-16 and up) tpu-vm-tf-2.20.0-pod-pjrt, whose
#         tpu-runtime service runs TensorFlow's TPU server on every host.
#         --spot requests a Spot TPU as a queued resource of the same name and waits up to
#         --wait_s (3600) for it to become ACTIVE.
# run     ships the committed HEAD (git archive) to every host, installs --tf_package
#         (tensorflow-tpu==2.20.0) with the project's other requirements (--skip_install: the
#         hosts have them), then starts `python3 -m trainer.main --strategy=tpu --tpu=local
#         --workdir=WORKDIR FLAGS` detached: a dropped connection does not stop it. On a slice of
#         several hosts, as TensorFlow runs one, only worker 0 trains: `TPU_NAME=NAME
#         TPU_LOAD_LIBRARY=0 ... --tpu=NAME` reaches every host's TPU server through the Cloud TPU
#         API, and it alone writes the workdir. The trainer logs to ~/trainer-logs/HOSTNAME.log
#         and writes its exit code to .exit. --accelerator names the type for --dry_run (otherwise
#         asked of gcloud).
#         A Spot TPU that Google reclaimed stays PREEMPTED: --recreate_if_preempted deletes and
#         recreates its queued resource, and training resumes from the workdir's last checkpoint.
# status  the TPU's state; the trainer's: running, exited N (and what N means), or no run; on a
#         slice of several hosts, each host's tpu-runtime service too.
# logs    the last --lines of the trainer's log (worker 0's; --worker=all or N for others),
#         prefixed with the hostname; --follow keeps going.
# delete  the TPU VM; for a Spot TPU, its queued resource and the TPU VM with it.
# Any command: --project=P; --dry_run prints the commands that create, delete, copy or start
# anything instead of running them (run --dry_run takes the TPU to be READY, and asks gcloud,
# read-only, for its type unless --accelerator names it; the others still ask for its state).
set -euo pipefail

usage() {  # Bad input: the command lines above, then one line saying what to fix.
  sed -n '4,9s/^# \{0,1\}//p' "$0" >&2
  echo "error: $1" >&2
  exit 2
}
fail() {  # Not the flags' fault: gcloud said no, the TPU is in the wrong state, a request failed.
  echo "error: $1" >&2
  exit "${2:-1}"
}

readonly BAD_INPUT_EXIT_CODE=2 TEMPORARY_FAILURE_EXIT_CODE=75  # trainer/errors.py's contract.
# TensorFlow's TPU server for tensorflow-tpu 2.20.0 on every host of a slice: TensorFlow names
# its multi-host runtimes tpu-vm-tf-VERSION-pod-pjrt (check `gcloud compute tpus tpu-vm versions
# list --zone=ZONE`; --version overrides).
readonly TF_POD_RUNTIME="tpu-vm-tf-2.20.0-pod-pjrt"
readonly KNOWN_ACCELERATORS="v2-*, v3-*, v4-* (tpu-ubuntu2204-base), v5litepod-* \
(v2-alpha-tpuv5-lite), v5p-* (v2-alpha-tpuv5), v6e-* (v2-alpha-tpuv6e); several hosts \
($TF_POD_RUNTIME)"

# How many hosts a slice of an accelerator type has (Cloud TPU's page of each version): v2, v3, v4
# and v5p count TensorCores, 8 to a host; v5e and v6e count chips, up to 8 on one host, else 4 to
# a host. Nothing for a type this script does not know.
hosts_for() {
  local count="${1##*-}"
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || return 0
  case "$1" in
    v2-* | v3-* | v4-* | v5p-*) echo $(( count > 8 ? count / 8 : 1 )) ;;
    v5litepod-* | v6e-*) echo $(( count > 8 ? count / 4 : 1 )) ;;
  esac
}

# The runtime for an accelerator type, from Cloud TPU's "TPU software versions" page
# (cloud.google.com/tpu/docs/runtimes); nothing for a generation this script does not know. A slice
# of several hosts gets TensorFlow's pod runtime: its program runs on worker 0 and reaches the
# chips of every host through the TPU server that runtime starts there.
runtime_for() {
  local hosts
  hosts="$(hosts_for "$1")"
  if [[ -n "$hosts" ]] && (( hosts > 1 )); then
    echo "$TF_POD_RUNTIME"
    return 0
  fi
  case "$1" in
    v2-* | v3-* | v4-*) echo tpu-ubuntu2204-base ;;
    v5litepod-*) echo v2-alpha-tpuv5-lite ;;
    v5p-*) echo v2-alpha-tpuv5 ;;
    v6e-*) echo v2-alpha-tpuv6e ;;
  esac
}

command="${1:-}"
case "$command" in
  create | run | status | logs | delete) shift ;;
  "" | -*) usage "name a command first: create, run, status, logs or delete" ;;
  *) usage "unknown command '$command' (create, run, status, logs or delete)" ;;
esac

name="" zone="" project="" accelerator="" version="" workdir="" worker=0 lines=50
wait_s=3600 tf_package="tensorflow-tpu==2.20.0"
spot=0 dry_run=0 follow=0 recreate=0 skip_install=0
given=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name=*) name="${1#*=}" ;;
    --zone=*) zone="${1#*=}" ;;
    --project=*) project="${1#*=}" ;;
    --accelerator=*) accelerator="${1#*=}" ;;
    --version=*) version="${1#*=}" ;;
    --workdir=*) workdir="${1#*=}" ;;
    --worker=*) worker="${1#*=}" ;;
    --lines=*) lines="${1#*=}" ;;
    --wait_s=*) wait_s="${1#*=}" ;;
    --tf_package=*) tf_package="${1#*=}" ;;
    --spot) spot=1 ;;
    --dry_run) dry_run=1 ;;
    --follow) follow=1 ;;
    --recreate_if_preempted) recreate=1 ;;
    --skip_install) skip_install=1 ;;
    --) shift; break ;;
    *) usage "unknown argument '$1' (trainer flags go after --)" ;;
  esac
  given+=("${1%%=*}")
  shift
done
trainer_flags=("$@")

# Which flags each command takes: a flag meant for another command is a mistake, not a no-op.
case "$command" in
  create) own="--accelerator --version --spot --wait_s" ;;
  run) own="--workdir --recreate_if_preempted --wait_s --tf_package --skip_install --accelerator" ;;
  logs) own="--worker --lines --follow" ;;
  status | delete) own="" ;;
esac
for flag in ${given[@]+"${given[@]}"}; do
  case " --name --zone --project --dry_run $own " in
    *" $flag "*) ;;
    *) usage "$flag is not a flag of '$command' (its own flags: ${own:-none})" ;;
  esac
done

[[ -n "$name" ]] || usage "--name is required (the TPU VM's name)"
[[ "$name" =~ ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  usage "--name=$name: use lowercase letters, digits and hyphens, starting with a letter (at most 63)"
[[ -n "$zone" ]] || usage "--zone is required (e.g. us-central2-b)"
[[ "$zone" =~ ^[a-z]+-[a-z]+[0-9]+-[a-z]$ ]] || usage "--zone=$zone is not a zone (e.g. us-central2-b)"
[[ "$wait_s" =~ ^[1-9][0-9]*$ ]] || usage "--wait_s=$wait_s: give a whole number of seconds, at least 1"
[[ "$lines" =~ ^[1-9][0-9]*$ ]] || usage "--lines=$lines: give a whole number of lines, at least 1"
[[ "$worker" == all || "$worker" =~ ^(0|[1-9][0-9]*)$ ]] ||
  usage "--worker=$worker: give 'all' or a host's index (0 is the first)"
[[ -n "$tf_package" ]] || usage "--tf_package is empty (e.g. tensorflow-tpu==2.20.0)"
[[ "$command" == create && -z "$accelerator" ]] &&
  usage "create needs --accelerator (e.g. v4-8, v5litepod-8, v6e-8)"
[[ -z "$accelerator" || "$accelerator" =~ ^[a-z0-9]+-[1-9][0-9]*$ ]] ||
  usage "--accelerator=$accelerator is not an accelerator type; known: $KNOWN_ACCELERATORS"
if [[ "$command" == create ]]; then
  if [[ -z "$version" ]]; then
    version="$(runtime_for "$accelerator")"
    [[ -n "$version" ]] || usage "no known runtime for --accelerator=$accelerator; known: \
$KNOWN_ACCELERATORS; or give the runtime with --version=RUNTIME"
  fi
fi
if [[ "$command" == run ]]; then
  [[ -n "$workdir" ]] || usage "run needs --workdir=gs://BUCKET/PATH (the trainer writes there, and a recreated TPU starts empty)"
  [[ "$workdir" =~ ^gs://[a-z0-9][-a-z0-9_.]{1,220}[a-z0-9](/.*)?$ ]] ||
    usage "--workdir=$workdir must be gs://BUCKET/PATH, the bucket name in lowercase letters, digits, -, _ or .: the trainer writes there, and a recreated TPU starts empty"
  for flag in ${trainer_flags[@]+"${trainer_flags[@]}"}; do
    case "$flag" in
      --strategy=* | --tpu=* | --workdir=*) usage "'$flag' is set by this script; remove it after --" ;;
    esac
  done
elif [[ ${#trainer_flags[@]} -gt 0 ]]; then
  usage "'$command' takes no trainer flags (after --); only 'run' does"
fi

gcloud_flags=(--zone="$zone")
[[ -n "$project" ]] && gcloud_flags+=(--project="$project")
tpu=(gcloud compute tpus tpu-vm)
queued=(gcloud compute tpus queued-resources)
where="--name=$name --zone=$zone${project:+ --project=$project}"

# Runs a command that changes something, or prints it under --dry_run.
act() {
  if (( dry_run )); then
    printf '%q ' "$@"
    echo
  else
    "$@"
  fi
}

# Prints a field of a resource (a gcloud --format projection), nothing when the resource does not
# exist; any other gcloud failure (no credentials, a wrong project) stops with gcloud's message.
describe() {
  local errors output
  errors="$(mktemp)"
  if output="$("$@" "${gcloud_flags[@]}" 2>"$errors")"; then
    rm -f "$errors"
    echo "$output"
  elif grep -q NOT_FOUND "$errors"; then
    rm -f "$errors"
  else
    cat "$errors" >&2
    rm -f "$errors"
    fail "gcloud failed: $*"
  fi
}
node_state() { describe "${tpu[@]}" describe "$name" --format='value(state)'; }
queued_state() { describe "${queued[@]}" describe "$name" --format='value(state.state)'; }

# Polls the queued resource (every $TPU_VM_POLL_S, 30 s) until it is ACTIVE: its TPU VM is READY.
wait_until_active() {
  (( dry_run )) && return 0
  local state last="" waited=0 poll="${TPU_VM_POLL_S:-30}"
  while true; do
    state="$(queued_state)"
    [[ "$state" != "$last" ]] && echo "$name: queued resource ${state:-gone}" >&2
    last="$state"
    case "$state" in
      ACTIVE) return 0 ;;
      FAILED | SUSPENDING | SUSPENDED | "")
        fail "queued resource $name is ${state:-gone}: \`gcloud compute tpus queued-resources \
describe $name --zone=$zone\` says why" ;;
    esac
    (( waited < wait_s )) || fail "$name is still $state after $wait_s s; the request stays \
queued: run the same command again to wait longer" "$TEMPORARY_FAILURE_EXIT_CODE"
    sleep "$poll"
    waited=$((waited + poll))
  done
}

# gcloud has said why a create failed; a runtime the zone lacks is the likely cause to name.
create_failed() {  # $1 runtime
  fail "creating $name with runtime $1 failed (gcloud's message above); if the zone lacks that \
runtime, pick one from \`gcloud compute tpus tpu-vm versions list --zone=$zone\` and pass --version=RUNTIME"
}

create_spot() {  # $1 accelerator type, $2 runtime
  act "${queued[@]}" create "$name" --node-id="$name" "${gcloud_flags[@]}" \
    --accelerator-type="$1" --runtime-version="$2" --spot || create_failed "$2"
  wait_until_active
}

# Google does not restart a reclaimed Spot TPU: delete its queued resource (--force deletes the
# TPU VM too) and request the same accelerator type and runtime again.
recreate_spot() {
  local spec accelerator_type runtime
  spec="$(describe "${queued[@]}" describe "$name" \
    --format='value(tpu.nodeSpec[0].node.acceleratorType,tpu.nodeSpec[0].node.runtimeVersion)')"
  read -r accelerator_type runtime <<<"$spec" || true
  [[ -n "${runtime:-}" ]] || fail "cannot read the accelerator type and runtime of queued resource $name"
  echo "$name: recreating the Spot TPU ($accelerator_type, $runtime)" >&2
  act "${queued[@]}" delete "$name" "${gcloud_flags[@]}" --force --quiet
  create_spot "$accelerator_type" "$runtime"
}

# Before `run`: the TPU VM must be READY. Waits for a queued request; recreates a reclaimed Spot
# TPU when --recreate_if_preempted says so.
ensure_ready() {
  local node queue
  node="$(node_state)"
  [[ "$node" == READY ]] && return 0
  queue="$(queued_state)"
  case "$queue" in
    WAITING_FOR_RESOURCES | ACCEPTED | CREATING | PROVISIONING) wait_until_active ;;
    ACTIVE | SUSPENDING | SUSPENDED | FAILED)
      (( recreate )) || fail "the Spot TPU $name is ${node:-gone} (queued resource $queue): add \
--recreate_if_preempted to recreate it; training resumes from $workdir" "$BAD_INPUT_EXIT_CODE"
      recreate_spot ;;
    "")
      [[ -n "$node" ]] || fail "there is no TPU VM $name in $zone: create it first \
(launch/tpu_vm.sh create $where --accelerator=...)" "$BAD_INPUT_EXIT_CODE"
      case "$node" in
        CREATING | STARTING | RESTARTING | REPAIRING | REIMAGING)
          fail "TPU VM $name is $node: run again when it is READY" "$TEMPORARY_FAILURE_EXIT_CODE" ;;
        *) fail "TPU VM $name is $node, not READY: delete it and create it again" "$BAD_INPUT_EXIT_CODE" ;;
      esac ;;
    *) fail "queued resource $name is $queue: run again when it is ACTIVE" "$TEMPORARY_FAILURE_EXIT_CODE" ;;
  esac
}

# The scripts the hosts run (quoted: expanded there). On each host, $logs is the path of its run's
# files without the suffix: .log (appended to by every run), .pid, and .exit once it ends.
HOST_LOGS="$(cat <<'EOF'
logs="$HOME/trainer-logs/$(hostname)"
mkdir -p "$HOME/trainer-logs"
EOF
)"
# Fails if this host's last run is still going, so that `run` never pulls the code from under it.
# The wrapper's command line names trainer.main, which a process reusing the pid would not.
HOST_GUARD="$HOST_LOGS
$(cat <<'EOF'
if [ -f "$logs.pid" ] && [ ! -f "$logs.exit" ] &&
    ps -ww -o args= -p "$(cat "$logs.pid")" 2>/dev/null | grep -q trainer.main; then
  echo "error: $(hostname): a run is still going (pid $(cat "$logs.pid")); see launch/tpu_vm.sh status" >&2
  exit 2
fi
EOF
)"
HOST_UNPACK='rm -rf ~/trainer && mkdir ~/trainer && tar -xzf ~/trainer.tar.gz -C ~/trainer && cd ~/trainer'
# tensorflow-tpu and CPU tensorflow write the same tensorflow/ directory: never both. The project
# goes in without its dependencies; then its requirements minus tensorflow (read from its installed
# metadata) and the TPU wheel in one pip call, so one resolver sees every constraint.
HOST_INSTALL="$(cat <<'EOF'
if python3 -m pip show -q tensorflow >/dev/null 2>&1; then
  python3 -m pip uninstall -q -y tensorflow tensorflow-tpu
fi
python3 -m pip install -q --no-deps .
python3 -m launch.requirements --exclude=tensorflow > ~/trainer-requirements.txt
EOF
)"
# setsid: the run gets a session of its own, so the end of the ssh session (SIGHUP to its process
# group) does not reach it; nohup for good measure; no descriptor left on ssh's pipes, or ssh would
# wait for the run to end. The wrapper writes its pid once in its own session, then, when the
# trainer ends, its exit code, each by a rename, so that no reader sees a file half written;
# HOST_STARTED waits for the pid, or a hang-up could come first.
HOST_START="$(cat <<'EOF'
cd ~/trainer && rm -f "$logs.exit" "$logs.pid"
PYTHONUNBUFFERED=1 nohup setsid bash -c '
  echo $$ > "$0.pid.new" && mv "$0.pid.new" "$0.pid"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(hostname): $*" >> "$0.log"
  "$@" >> "$0.log" 2>&1
  echo $? > "$0.exit.new" && mv "$0.exit.new" "$0.exit"' "$logs"
EOF
)"
HOST_STARTED="$(cat <<'EOF'
for _ in $(seq 100); do [ -f "$logs.pid" ] && break; sleep 0.1; done
if [ ! -f "$logs.pid" ]; then echo "error: $(hostname): the run did not start; see $logs.log" >&2; exit 1; fi
echo "$(hostname): started; log $logs.log"
EOF
)"
# One line per host on its run; the exit codes are trainer/errors.py's.
HOST_STATUS="$HOST_LOGS
$(cat <<'EOF'
host="$(hostname)"
# Whether the run is alive is read before its exit file: a run that ends in between has written
# that file by then (it writes it before it exits), so it never reads as stopped without one.
# -ww: the wrapper's command line is long, and ps cuts it at $COLUMNS when that is set.
alive=no
if [ -f "$logs.pid" ] && ps -ww -o args= -p "$(cat "$logs.pid")" 2>/dev/null | grep -q trainer.main; then
  alive=yes
fi
if [ -f "$logs.exit" ]; then
  code="$(cat "$logs.exit")"
  case "$code" in
    0) meaning="finished" ;;
    2) meaning="bad input: see the log" ;;
    42) meaning="preempted, checkpoint saved: run again to resume" ;;
    44) meaning="this VM was being preempted or stopped for maintenance, checkpoint saved: run again once it is READY" ;;
    43) meaning="a peer worker was lost: run again to resume" ;;
    75) meaning="storage did not answer: run again" ;;
    *) meaning="failed: see the log" ;;
  esac
  echo "[$host] exited $code ($meaning)"
elif [ "$alive" = yes ]; then
  echo "[$host] running (pid $(cat "$logs.pid")): $(tail -n 1 "$logs.log")"
elif [ -f "$logs.pid" ]; then
  echo "[$host] stopped without an exit code (killed, or the host restarted): see the log"
else
  echo "[$host] no run"
fi
EOF
)"

# One line per host on its tpu-runtime service, which runs the TPU server that worker 0's trainer
# reaches the host's chips through.
HOST_RUNTIME_STATUS="$(cat <<'EOF'
state="$(systemctl is-active tpu-runtime 2>/dev/null)" || true
case "$state" in
  active) echo "[$(hostname)] tpu-runtime active (the TPU server of TensorFlow)" ;;
  *) echo "[$(hostname)] tpu-runtime ${state:-unknown}: the trainer on worker 0 cannot reach the \
chips of this host; see sudo journalctl -u tpu-runtime" ;;
esac
EOF
)"

# The slice's accelerator type and runtime, tab-separated: under --dry_run from --accelerator when
# given, else asked of gcloud (read-only; empty when it cannot tell, and a dry run goes on).
slice_spec() {
  local format='value(acceleratorType,runtimeVersion)'
  if (( dry_run )); then
    if [[ -n "$accelerator" ]]; then
      printf '%s\t\n' "$accelerator"
    else
      "${tpu[@]}" describe "$name" "${gcloud_flags[@]}" --format="$format" 2>/dev/null || true
    fi
    return 0
  fi
  describe "${tpu[@]}" describe "$name" --format="$format"
}

# How many hosts the TPU has; stops when this script cannot tell (a dry run takes one host then).
host_count() {  # $1 accelerator type
  local hosts
  hosts="$(hosts_for "$1")"
  if [[ -z "$hosts" ]] && (( dry_run )); then
    echo "note: cannot tell how many hosts ${1:-TPU $name} has (an unknown type, no such TPU, or \
gcloud did not answer): showing the commands for one host; --accelerator=TYPE names the type" >&2
    hosts=1
  fi
  [[ -n "$hosts" ]] || fail "cannot tell how many hosts a ${1:-?} has: this script knows \
$KNOWN_ACCELERATORS" "$BAD_INPUT_EXIT_CODE"
  echo "$hosts"
}

run_command() {
  local repo changed
  repo="$(cd "$(dirname "$0")/.." && pwd)"
  git -C "$repo" rev-parse --verify -q HEAD >/dev/null ||
    usage "run ships the committed HEAD (git archive): run it from a git checkout with a commit"
  changed="$(git -C "$repo" status --porcelain | wc -l)"
  if (( changed > 0 )); then
    echo "warning: $changed files with uncommitted changes are left out: run ships the committed HEAD" >&2
  fi
  (( dry_run )) || ensure_ready
  local spec slice_type runtime hosts
  spec="$(slice_spec)"
  # gcloud's value() joins fields with tabs; read them split at '|', since a whitespace IFS
  # would drop an empty first field (a TPU created with --type/--topology has no acceleratorType).
  IFS='|' read -r slice_type runtime <<<"${spec//$'\t'/|}" || true
  if [[ -n "$accelerator" && -n "$slice_type" && "$accelerator" != "$slice_type" ]]; then
    fail "--accelerator=$accelerator, but TPU $name is a $slice_type: drop --accelerator" \
      "$BAD_INPUT_EXIT_CODE"
  fi
  hosts="$(host_count "$slice_type")"
  if (( hosts > 1 )) && [[ -n "${runtime:-}" && "$runtime" != *-pod* ]]; then
    echo "warning: $name ($slice_type, $hosts hosts) runs runtime $runtime: TensorFlow trains a \
slice of several hosts through the TPU server of a tpu-vm-tf-*-pod-* runtime on each host \
(launch/tpu_vm.sh create picks $TF_POD_RUNTIME)" >&2
  fi
  archive_dir="$(mktemp -d)"  # Global: the EXIT trap runs after this function has returned.
  trap 'rm -rf "$archive_dir"' EXIT
  git -C "$repo" archive --format=tar.gz -o "$archive_dir/trainer.tar.gz" HEAD
  act "${tpu[@]}" scp "$archive_dir/trainer.tar.gz" "$name:~/trainer.tar.gz" "${gcloud_flags[@]}" --worker=all

  local prepare="set -e
$HOST_GUARD
$HOST_UNPACK"
  if (( ! skip_install )); then
    prepare+="
$HOST_INSTALL
python3 -m pip install -q $(printf '%q' "$tf_package") -r ~/trainer-requirements.txt"
  fi
  act "${tpu[@]}" ssh "$name" "${gcloud_flags[@]}" --worker=all --command="$prepare"

  # One trainer, on worker 0: a single host's chips are local; a slice of several hosts is
  # reached by name through the Cloud TPU API, and TPU_LOAD_LIBRARY=0 leaves worker 0's chips to
  # its TPU server. One process, so one chief writes the workdir.
  local train=(python3 -m trainer.main --strategy=tpu --tpu=local)
  if (( hosts > 1 )); then
    train=(env TPU_NAME="$name" TPU_LOAD_LIBRARY=0 python3 -m trainer.main --strategy=tpu --tpu="$name")
  fi
  train+=(--workdir="$workdir" ${trainer_flags[@]+"${trainer_flags[@]}"})
  local start
  start="set -e
$HOST_GUARD
$HOST_START $(printf '%q ' "${train[@]}")< /dev/null > /dev/null 2>&1 &
$HOST_STARTED"
  act "${tpu[@]}" ssh "$name" "${gcloud_flags[@]}" --worker=0 --command="$start"
  echo "Follow: launch/tpu_vm.sh logs $where --follow; status: launch/tpu_vm.sh status $where" >&2
}

status_command() {
  local node queue
  node="$(node_state)"
  queue="$(queued_state)"
  echo "$name: ${node:-no TPU VM}${queue:+ (Spot: queued resource $queue)}"
  if [[ "$node" != READY ]]; then
    [[ -z "$queue" ]] || echo "Recreate it and train on: launch/tpu_vm.sh run $where --recreate_if_preempted ..."
    return 0
  fi
  act "${tpu[@]}" ssh "$name" "${gcloud_flags[@]}" --worker=0 --command="$HOST_STATUS"
  local spec slice_type hosts
  spec="$(describe "${tpu[@]}" describe "$name" --format='value(acceleratorType)')"
  slice_type="${spec%%$'\t'*}"
  hosts="$(hosts_for "$slice_type")"
  if [[ -z "$hosts" ]] || (( hosts > 1 )); then
    act "${tpu[@]}" ssh "$name" "${gcloud_flags[@]}" --worker=all --command="$HOST_RUNTIME_STATUS"
  fi
}

logs_command() {
  local tail_flags="-n $lines"
  (( follow )) && tail_flags+=" -F"
  local show="$HOST_LOGS
if [ -f \"\$logs.log\" ]; then
  tail $tail_flags \"\$logs.log\" | sed -u \"s/^/[\$(hostname)] /\"
else
  echo \"[\$(hostname)] no trainer log (a slice of several hosts trains on worker 0 only; \
the TPU server of this host logs: sudo journalctl -u tpu-runtime)\"
fi"
  act "${tpu[@]}" ssh "$name" "${gcloud_flags[@]}" --worker="$worker" --command="$show"
}

delete_command() {
  local queue
  queue="$(queued_state)"
  if [[ -n "$queue" ]]; then
    act "${queued[@]}" delete "$name" "${gcloud_flags[@]}" --force --quiet
  else
    act "${tpu[@]}" delete "$name" "${gcloud_flags[@]}" --quiet
  fi
}

case "$command" in
  create)
    if (( spot )); then
      create_spot "$accelerator" "$version"
    else
      act "${tpu[@]}" create "$name" "${gcloud_flags[@]}" --accelerator-type="$accelerator" \
        --version="$version" || create_failed "$version"
    fi ;;
  run) run_command ;;
  status) status_command ;;
  logs) logs_command ;;
  delete) delete_command ;;
esac
