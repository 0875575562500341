"""The gs:// workdir check against gcp-storage-emulator on loopback, and a front server in front
of it that answers GCS's errors (403, 401, 429, 503) where the emulator cannot."""

import json
import logging
import threading
import time

import pytest
from google.cloud import storage as gcs

from launch.workers import free_ports
from tests.support.gcs_stand_in import Emulator, StorageFront
from tests.support.helpers import raises_one_line
from trainer.cloud.storage import Backoff, GcsPath, check_gcs_workdir, is_transient
from trainer.errors import HarnessError, StorageUnavailable
from trainer.workdir.directory import Workdir

BUCKET = "runs-bucket"

FAST = Backoff(wait_s=10, first_delay_s=0.05, max_delay_s=0.2)  # Retries in tenths of a second.


@pytest.fixture(scope="module")
def emulator():
    server = Emulator(bucket=BUCKET)
    yield server
    server.close()


@pytest.fixture
def front(emulator, monkeypatch):
    """Returns a StorageFront factory; the last one made is what STORAGE_EMULATOR_HOST names."""
    fronts = []

    def make(**rule) -> StorageFront:
        fronts.append(StorageFront(emulator.url, **rule))
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", fronts[-1].url)
        return fronts[-1]

    yield make
    for server in fronts:
        server.close()


def _objects(emulator, monkeypatch, prefix="") -> list[str]:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    return [blob.name for blob in gcs.Client(project=None).list_blobs(BUCKET, prefix=prefix)]


def _retry_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]


def test_a_writable_bucket_passes_and_the_probe_is_created_then_deleted(
    front, emulator, monkeypatch
):
    seen = front()
    check_gcs_workdir(f"gs://{BUCKET}/runs/a", write=True, backoff=FAST)
    methods = [request.split(" ", 1)[0] for request in seen.requests]
    assert methods == ["GET", "POST", "DELETE"], seen.requests
    assert "prefix=runs%2Fa%2F" in seen.requests[0]  # Lists under the workdir only.
    assert "runs%2Fa%2F.write-probe-" in seen.requests[2]
    assert _objects(emulator, monkeypatch) == []  # Nothing left behind.


def test_a_reader_only_lists(front):
    seen = front()
    check_gcs_workdir(f"gs://{BUCKET}/runs/a", write=False, backoff=FAST)
    assert [request.split(" ", 1)[0] for request in seen.requests] == ["GET"]


def test_a_missing_bucket_is_one_line_that_names_it_and_how_to_create_it(emulator, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    message = raises_one_line(
        lambda: check_gcs_workdir("gs://missing-bucket/run", write=True, backoff=FAST),
        "gs://missing-bucket/run",
        "bucket 'missing-bucket' does not exist",
        "gcloud storage buckets create gs://missing-bucket",
    )
    assert "http://" not in message  # The server's message, not the request's URL.


def test_a_refused_identity_is_named_with_the_role_to_grant(front, caplog):
    seen = front(status=403, bucket="locked")
    with pytest.raises(HarnessError) as raised:
        check_gcs_workdir("gs://locked/runs/a", write=True, backoff=FAST)
    message = str(raised.value)
    assert raised.value.exit_code == 2 and "\n" not in message, message
    for fragment in (
        "anonymous",  # The identity (the emulator's client has no credentials).
        "may not list objects in bucket 'locked'",
        "storage.objects.list",  # The server's own message says which permission.
        "roles/storage.objectUser",
        "gcloud storage buckets add-iam-policy-binding gs://locked",
        "Workload Identity",
    ):
        assert fragment in message, message
    assert len(seen.requests) == 1 and not _retry_lines(caplog)  # A 403 is not retried.


def test_only_the_chief_needs_write_permission(front, emulator, monkeypatch):
    front(status=403, bucket=BUCKET, methods={"POST"})
    check_gcs_workdir(f"gs://{BUCKET}/runs/a", write=False, backoff=FAST)  # A reader passes.
    raises_one_line(
        lambda: check_gcs_workdir(f"gs://{BUCKET}/runs/a", write=True, backoff=FAST),
        "may not create objects in bucket",
    )
    assert _objects(emulator, monkeypatch) == []


@pytest.fixture
def service_account(tmp_path, monkeypatch):
    """Returns a function that points the check at a front server as a service account: real
    credentials from a key file whose token endpoint is that front, and the storage client sent
    there by API_ENDPOINT_OVERRIDE (STORAGE_EMULATOR_HOST would make it anonymous)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    email = "trainer-gsa@project-id.iam.gserviceaccount.com"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    def use(server: StorageFront) -> str:
        info = {
            "type": "service_account",
            "project_id": "project-id",
            "private_key_id": "1",
            "private_key": pem,
            "client_email": email,
            "client_id": "1",
            "token_uri": f"{server.url}/token",
        }
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(info))
        monkeypatch.delenv("STORAGE_EMULATOR_HOST")
        monkeypatch.setenv("API_ENDPOINT_OVERRIDE", server.url)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        return email

    return use


def test_a_service_account_is_named_in_a_403(front, service_account):
    seen = front(status=403, bucket="locked")
    email = service_account(seen)
    raises_one_line(
        lambda: check_gcs_workdir("gs://locked/runs/a", write=True, backoff=FAST),
        f"{email} may not list objects in bucket 'locked'",
        f"--member=serviceAccount:{email}",
    )
    assert [r.split(" ", 1)[0] for r in seen.requests] == ["GET"]


def test_refused_credentials_are_named_and_not_retried(front, service_account):
    seen = front(status=401)
    email = service_account(seen)
    raises_one_line(
        lambda: check_gcs_workdir(f"gs://{BUCKET}/run", write=True, backoff=FAST),
        f"the credentials of {email} were refused (401 Unauthorized",
        "GOOGLE_APPLICATION_CREDENTIALS",
    )
    # google-auth refreshes the token and tries again on a 401, itself; the check does not retry.
    assert len(seen.requests) <= 3, seen.requests


def test_no_credentials_says_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing-key.json"))
    started = time.monotonic()
    raises_one_line(
        lambda: check_gcs_workdir("gs://bucket/run", write=True, backoff=FAST),
        "gs://bucket/run: no Google credentials found",
        "missing-key.json",
        "gcloud auth application-default login",
        "Workload Identity",
    )
    assert time.monotonic() - started < 5  # Not retried.


@pytest.mark.parametrize("status", [429, 503])
def test_transient_answers_are_retried_with_a_line_each(
    front, emulator, monkeypatch, caplog, status
):
    seen = front(status=status, times=3)
    with caplog.at_level(logging.WARNING):
        check_gcs_workdir(f"gs://{BUCKET}/runs/a", write=True, backoff=FAST)
    lines = _retry_lines(caplog)
    assert len(lines) == 3, lines
    assert f"list failed ({status} " in lines[0] and "retry 1 in" in lines[0], lines[0]
    assert "retry 3 in" in lines[2]
    assert seen.errors_sent == 3
    assert [r.split(" ", 1)[0] for r in seen.requests[3:]] == ["GET", "POST", "DELETE"]
    assert _objects(emulator, monkeypatch) == []


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_step_whose_reply_was_lost_is_retried_and_passes(
    front, emulator, monkeypatch, caplog, method
):
    """The probe was created (or deleted) but a 503 came back: the retry creates it again (or
    finds it gone, a 404 that counts as done), and nothing is left behind."""
    seen = front(status=503, methods={method}, times=1, lost_reply=True)
    with caplog.at_level(logging.WARNING):
        check_gcs_workdir(f"gs://{BUCKET}/runs/b", write=True, backoff=FAST)
    step = {"POST": "create", "DELETE": "delete"}[method]
    assert f"{step} failed (503" in _retry_lines(caplog)[0]
    methods = [r.split(" ", 1)[0] for r in seen.requests]
    assert methods.count(method) == 2, methods
    assert _objects(emulator, monkeypatch) == []


def test_connection_refused_until_the_server_comes_up(emulator, monkeypatch, caplog):
    (port,) = free_ports(1)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    fronts = []
    timer = threading.Timer(1.0, lambda: fronts.append(StorageFront(emulator.url, port=port)))
    timer.start()
    started = time.monotonic()
    try:
        with caplog.at_level(logging.WARNING):
            check_gcs_workdir(f"gs://{BUCKET}/runs/a", write=True, backoff=FAST)
    finally:
        timer.join()
        for server in fronts:
            server.close()
    assert time.monotonic() - started >= 1.0
    lines = _retry_lines(caplog)
    assert lines and all("Connection refused" in line for line in lines), lines


def test_storage_that_never_answers_gives_up_with_exit_75(front, caplog):
    seen = front(status=503)
    budget = Backoff(wait_s=1.0, first_delay_s=0.1, max_delay_s=0.4)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        message = raises_one_line(
            lambda: check_gcs_workdir(f"gs://{BUCKET}/run", write=True, backoff=budget),
            f"gs://{BUCKET}/run: storage did not answer within 1 s",
            "503 ServiceUnavailable",
            "config.checkpoint.storage_wait_s",
        )
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0, elapsed
    with pytest.raises(StorageUnavailable) as raised:
        check_gcs_workdir(f"gs://{BUCKET}/run", write=False, backoff=Backoff(wait_s=0.2))
    assert raised.value.exit_code == 75
    assert len(_retry_lines(caplog)) >= 3 and seen.errors_sent >= 4, message


def test_a_dns_failure_is_transient(monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://no-such-host.invalid:80")
    with pytest.raises(StorageUnavailable) as raised:
        check_gcs_workdir("gs://bucket/run", write=True, backoff=Backoff(wait_s=0.3))
    assert "NameResolutionError" in str(raised.value) and "no-such-host.invalid" in str(
        raised.value
    )


def test_which_errors_are_transient():
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    for error in (
        api.TooManyRequests("slow down"),
        api.ServiceUnavailable("later"),
        api.GatewayTimeout("later"),
        api.from_http_status(408, "timeout"),
        requests.ConnectionError("reset"),
        requests.Timeout("read timed out"),
        ConnectionResetError(104, "Connection reset by peer"),
        auth.TransportError("metadata server not ready"),
        auth.RefreshError("token endpoint 503", retryable=True),
    ):
        assert is_transient(error), error
    wrapped = auth.RefreshError("could not fetch the token")
    wrapped.__cause__ = auth.TransportError("metadata server did not answer")
    assert is_transient(wrapped)  # What Compute Engine credentials raise.
    unbound = auth.RefreshError("could not fetch the token")
    unbound.__cause__ = auth.TransportError(
        "Failed to retrieve http://169.254.169.254/computeMetadata/v1/instance/service-accounts/"
        "default/?recursive=true from the Google Compute Engine metadata service. Status: 404"
    )
    assert not is_transient(unbound)  # GKE: a Kubernetes service account bound to nothing.
    for error in (
        api.NotFound("no bucket"),
        api.Forbidden("no"),
        api.Unauthorized("who"),
        api.BadRequest("bad name"),
        auth.DefaultCredentialsError("none"),
        auth.RefreshError("invalid_grant"),
        ValueError("a bug"),
    ):
        assert not is_transient(error), error


def test_gcs_paths():
    assert GcsPath.parse("gs://b") == GcsPath("b", "")
    assert GcsPath.parse("gs://b/runs/a/") == GcsPath("b", "runs/a")
    assert str(GcsPath("b", "runs/a")) == "gs://b/runs/a"
    assert GcsPath("b", "runs/a").object_name("x") == "runs/a/x"
    assert GcsPath("b", "").object_name("x") == "x"
    raises_one_line(lambda: GcsPath.parse("gs:///run"), "names no bucket", "--workdir=gs://")


def test_bad_bucket_names_are_bad_input(front):
    seen = front()
    raises_one_line(
        lambda: check_gcs_workdir("gs://-x/run", write=True, backoff=FAST), "gs://-x/run", "Fix"
    )
    assert seen.requests == []  # Refused before asking storage.


def test_a_bucket_top_as_workdir(front, emulator, monkeypatch):
    seen = front()
    check_gcs_workdir(f"gs://{BUCKET}", write=True, backoff=FAST)
    assert "/o/.write-probe-" in seen.requests[2]
    assert _objects(emulator, monkeypatch) == []


def test_workdir_checks_the_bucket_by_role(front, monkeypatch):
    """The chief lists and writes; another worker lists, then probes its own scratch directory."""
    seen = front(status=403, bucket=BUCKET, methods={"POST"})
    chief = Workdir(f"gs://{BUCKET}/runs/c", is_chief=True)
    raises_one_line(lambda: chief.ensure_writable(storage_wait_s=5), "may not create objects")
    worker = Workdir(f"gs://{BUCKET}/runs/c", is_chief=False)
    try:
        worker.ensure_writable(storage_wait_s=5)
    finally:
        worker.close()
    assert seen.requests[-1].startswith("GET ")  # The worker only listed.
