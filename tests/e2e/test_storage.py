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


@pytest.mark.slow
def test_the_evaluator_checks_the_bucket_as_training_does(emulator):
    from tests.e2e.test_evaluator import EVALUATOR_TF_CONFIG

    process = train(
        "--workdir=gs://missing-bucket/run",
        env={"STORAGE_EMULATOR_HOST": emulator.url, "TF_CONFIG": EVALUATOR_TF_CONFIG},
    )
    assert_one_line_error(
        process, "gs://missing-bucket/run: bucket 'missing-bucket' does not exist", exit_code=2
    )
    assert "Evaluator: waiting" not in process.stderr


@pytest.mark.slow
def test_an_unbound_gke_service_account_exits_2_naming_the_binding():
    """GKE's metadata server answers 404 for the token of a Kubernetes service account that
    Workload Identity does not bind, which google-auth wraps in a RefreshError. Retrying it (exit
    75) would restart the pod for ever: it is exit 2, with the binding to make."""
    from tests.support.gce_stand_in import MetadataServer

    server = MetadataServer({"instance/service-accounts/default/email": "default"})
    try:
        process = train("--workdir=gs://bucket/run", env=server.environment)
    finally:
        server.close()
    assert_one_line_error(
        process,
        "gs://bucket/run: the metadata server has no token",
        "(404 for instance/service-accounts/default/)",
        "roles/iam.workloadIdentityUser",
        "iam.gke.io/gcp-service-account=GSA_EMAIL",
        exit_code=2,
    )
    assert "retry" not in process.stderr
    assert any("service-accounts/default" in path for path in server.requests)
