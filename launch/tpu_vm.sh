#!/usr/bin/env bash
# Train on a Cloud TPU VM, or on every host of a TPU slice at once, from this checkout.
#
#   launch/tpu_vm.sh --name=my-tpu --zone=us-central2-b --workdir=gs://BUCKET/runs/digits \
#       [--create --accelerator=v4-8 [--version=tpu-ubuntu2204-base] [--spot]] [--project=P] \
#       [--dry_run] -- --config=configs/digits_mlp.py --config.train.steps=5000
#
# Ships the committed HEAD (git archive) to every host, installs it with the TPU build of
# TensorFlow, and runs `python3 -m trainer.main --strategy=tpu --tpu=local --workdir=WORKDIR`
# on all hosts together (the hosts of a slice form one TPU system). --create creates the TPU VM
# first (--spot: a Spot VM, which Google may reclaim: run the same command again, with --create
# if the VM is gone, and training resumes from the latest checkpoint in the workdir).
# --dry_run prints the gcloud commands instead of running them. The exit code is the run's.
set -euo pipefail

usage() {
  sed -n '2,14s/^# \{0,1\}//p' "$0" >&2
  echo "error: $1" >&2
  exit 2
}

name="" zone="" workdir="" accelerator="" project="" create=0 spot=0 dry_run=0
version="tpu-ubuntu2204-base"
tf_package="tensorflow-tpu==2.21.*"
tf_index="https://storage.googleapis.com/libtpu-tf-releases/index.html"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name=*) name="${1#*=}" ;;
    --zone=*) zone="${1#*=}" ;;
    --workdir=*) workdir="${1#*=}" ;;
    --accelerator=*) accelerator="${1#*=}" ;;
    --version=*) version="${1#*=}" ;;
    --project=*) project="${1#*=}" ;;
    --tf_package=*) tf_package="${1#*=}" ;;
    --create) create=1 ;;
    --spot) spot=1 ;;
    --dry_run) dry_run=1 ;;
    --) shift; break ;;
    *) usage "unknown argument '$1' (trainer flags go after --)" ;;
  esac
  shift
done
trainer_flags=("$@")

[[ -n "$name" ]] || usage "--name is required (the TPU VM's name)"
[[ -n "$zone" ]] || usage "--zone is required (e.g. us-central2-b)"
[[ "$workdir" == gs://* ]] || usage "--workdir must be gs://BUCKET/...: every host writes there"
if (( create )) && [[ -z "$accelerator" ]]; then
  usage "--create needs --accelerator (e.g. v4-8)"
fi
for flag in "${trainer_flags[@]}"; do
  case "$flag" in
    --strategy=* | --tpu=* | --workdir=*) usage "'$flag' is set by this script; remove it after --" ;;
  esac
done

gcloud_flags=(--zone="$zone")
[[ -n "$project" ]] && gcloud_flags+=(--project="$project")

run() {
  if (( dry_run )); then
    printf '%q ' "$@"
    echo
  else
    "$@"
  fi
}

repo="$(cd "$(dirname "$0")/.." && pwd)"
archive="$(mktemp -d)/trainer.tar.gz"
trap 'rm -rf "$(dirname "$archive")"' EXIT
git -C "$repo" archive --format=tar.gz -o "$archive" HEAD

if (( create )); then
  create_flags=(--accelerator-type="$accelerator" --version="$version")
  (( spot )) && create_flags+=(--spot)
  run gcloud compute tpus tpu-vm create "$name" "${gcloud_flags[@]}" "${create_flags[@]}"
fi
run gcloud compute tpus tpu-vm scp "$archive" "$name:~/trainer.tar.gz" "${gcloud_flags[@]}" --worker=all

train_command="python3 -m trainer.main --strategy=tpu --tpu=local --workdir=$(printf '%q' "$workdir")"
for flag in "${trainer_flags[@]}"; do
  train_command+=" $(printf '%q' "$flag")"
done
remote="set -e; rm -rf ~/trainer; mkdir ~/trainer; tar -xzf ~/trainer.tar.gz -C ~/trainer; cd ~/trainer"
remote+="; python3 -m pip install -q -e ."
remote+="; python3 -m pip install -q --force-reinstall --no-deps '$tf_package' -f $tf_index"
remote+="; $train_command"
run gcloud compute tpus tpu-vm ssh "$name" "${gcloud_flags[@]}" --worker=all --command="$remote"
