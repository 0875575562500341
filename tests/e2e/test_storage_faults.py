"""Storage that fails mid-run, through TensorFlow's own gs:// client.

The trainer writes gs://runs/run through TensorFlow's filesystem, which reaches the Cloud Storage
emulator through an HTTPS proxy on loopback (tests/support/gcs_tensorflow.py says why and how).
The front between them starts failing once the checkpoint of step 20 is being written: a short
503 blip (retried, the run finishes), 503 for good (exit 75, checkpoint 10 intact, and the rerun
resumes from it) or a 403 (exit 2).
"""

import json

import pytest
from google.cloud import storage as gcs

from tests.support.gcs_stand_in import Emulator, StorageFront
from tests.support.gcs_tensorflow import PUBLIC_URL, TlsProxy
from tests.support.helpers import assert_ok, assert_one_line_error, train

BUCKET = "runs"
WORKDIR = f"gs://{BUCKET}/run"
RUN = (
    f"--workdir={WORKDIR}",
    "--config.train.steps=40",
    "--config.train.steps_per_loop=10",
    "--config.checkpoint.every_steps=10",
    "--config.checkpoint.storage_wait_s=6",
)
FROM_CHECKPOINT_20 = r"checkpoints/ckpt-20"  # The first request that writes it.

pytestmark = pytest.mark.slow


@pytest.fixture
def storage(tmp_path, monkeypatch):
    """Returns `start(**rule)`: a fresh emulator, a front with `rule`, a proxy; the process
    environment that reaches them."""
    servers = []

    def start(**rule):
        emulator = Emulator(bucket=BUCKET)
        front = StorageFront(emulator.url, public_url=PUBLIC_URL, **rule)
        proxy = TlsProxy(front.url, tmp_path)
        servers.extend([proxy, front, emulator])
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)  # This test's own reads.
        return emulator, front, proxy.environment(front)

    yield start
    for server in servers:
        server.close()


def _objects(prefix: str) -> list[str]:
    client = gcs.Client(project=None)
    return sorted(blob.name for blob in client.list_blobs(BUCKET, prefix=prefix))


def _read(name: str) -> str:
    return gcs.Client(project=None).bucket(BUCKET).blob(name).download_as_text()


def test_a_blip_mid_run_is_retried_and_the_run_finishes(storage):
    _, front, env = storage(status=503, times=4, start_after=FROM_CHECKPOINT_20)
    process = train(*RUN, env=env)
    assert_ok(process)
    assert front.errors_sent == 4
    retries = [line for line in process.stderr.splitlines() if "retry" in line]
    assert retries and all("save the checkpoint of step 20 failed" in r for r in retries)
    assert "HTTP response code 503" in retries[0] and "{{function_node" not in retries[0]
    results = json.loads(_read("run/results.json"))
    assert results["step"] == 40
    assert "run/checkpoints/ckpt-20.index" in _objects("run/checkpoints/")


def test_storage_gone_for_good_exits_75_and_the_rerun_resumes(storage):
    _, front, env = storage(status=503, start_after=FROM_CHECKPOINT_20)
    process = train(*RUN, env=env)
    assert_one_line_error(
        process,
        f"{WORKDIR}: storage kept failing for 6 s",
        "to save the checkpoint of step 20",
        f"The last good checkpoint is {WORKDIR}/checkpoints/ckpt-10 (step 10)",
        exit_code=75,
    )
    assert "Saved checkpoint" in process.stderr and "ckpt-20" not in _read(
        "run/checkpoints/checkpoint"
    )

    front.status = None  # Storage is back: the rerun resumes from checkpoint 10.
    rerun = train(*RUN, env=env)
    assert_ok(rerun)
    assert "resuming at step 10" in rerun.stderr
    assert json.loads(_read("run/results.json"))["step"] == 40


def test_a_refusal_mid_run_exits_2_naming_the_last_checkpoint(storage):
    _, front, env = storage(status=403, start_after=FROM_CHECKPOINT_20)
    process = train(*RUN, env=env)
    assert_one_line_error(
        process,
        f"{WORKDIR}: storage refused to save the checkpoint of step 20",
        "PermissionDeniedError",
        f"The last good checkpoint is {WORKDIR}/checkpoints/ckpt-10 (step 10)",
        exit_code=2,
    )
    assert "retry" not in process.stderr
