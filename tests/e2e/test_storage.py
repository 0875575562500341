"""The gs:// workdir check against gcp-storage-emulator on loopback, and a front server in front
of it that answers GCS's errors (403, 401, 429, 503) where the emulator cannot."""

import pytest

from tests.support.gcs_stand_in import Emulator, StorageFront
from tests.support.helpers import assert_one_line_error, train

BUCKET = "runs-bucket"


@pytest.fixture(scope="module")
def emulator():
    server = Emulator(bucket=BUCKET)
    yield server
    server.close()


@pytest.mark.slow
def test_the_command_line_stops_at_a_missing_bucket_with_exit_2(emulator):
    """Before TensorFlow touches gs:// (it cannot reach an emulator): the check is the stop."""
    process = train(
        "--workdir=gs://missing-bucket/run", env={"STORAGE_EMULATOR_HOST": emulator.url}
    )
    assert_one_line_error(
        process,
        "gs://missing-bucket/run: bucket 'missing-bucket' does not exist",
        "gcloud storage buckets create gs://missing-bucket",
        exit_code=2,
    )


@pytest.mark.slow
def test_the_command_line_exits_75_when_storage_never_answers(emulator):
    seen = StorageFront(emulator.url, status=503)
    try:
        process = train(
            f"--workdir=gs://{BUCKET}/run",
            "--config.checkpoint.storage_wait_s=2",
            env={"STORAGE_EMULATOR_HOST": seen.url},
        )
    finally:
        seen.close()
    assert_one_line_error(
        process, f"gs://{BUCKET}/run: storage did not answer within 2 s", exit_code=75
    )
    assert "list failed (503 ServiceUnavailable" in process.stderr
