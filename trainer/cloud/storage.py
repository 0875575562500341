"""Checks at start that a gs:// workdir's bucket answers and lets this identity in.

    check_gcs_workdir("gs://bucket/runs/a", write=True)  # List, then create and delete a probe.

Through the google-cloud-storage client, not tf.io.gfile: its errors say what went wrong (a 404
bucket, a 403 identity) where TensorFlow's say "error executing an HTTP request", it follows
`STORAGE_EMULATOR_HOST` so tests run it against an emulator on loopback, and it picks up the same
Application Default Credentials as TensorFlow's gs:// filesystem, which does the run's writes.

Each error lands on one side of the exit-code contract (trainer/errors.py):
- transient (DNS, refused or reset connections, timeouts, HTTP 408/429/5xx, a metadata server that
  does not answer yet) is retried with exponential backoff and jitter for `wait_s`, a log line
  per retry, then StorageUnavailable: exit 75, and a restart policy retries the run later;
- permanent (a missing bucket, a 403, no or refused credentials) is one line that names the
  bucket, the identity and the fix: exit 2, which a pod failure policy turns into FailJob.
No credentials (DefaultCredentialsError) counts as permanent: google-auth already waits for a
slow metadata server (google-auth-library-python#604) and, on a GCE or GKE machine, falls back
to credentials that fetch their token later, whose failure is then a retried transport error.
"""

import dataclasses
import os
import random
import re
import time
import uuid

from absl import logging

from trainer.cloud.gcp_identity import identity_of
from trainer.errors import HarnessError, StorageUnavailable, first_line

DEFAULT_WAIT_S = 120.0  # Long enough for a DNS blip or a pod's metadata server to come up.
_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
_TRANSIENT_STATUS = (408, 429, 500, 502, 503, 504)  # As google-cloud-storage's own retry.
_KUBERNETES_DOC = 'docs/kubernetes.md, "Workload Identity"'


@dataclasses.dataclass(frozen=True)
class Backoff:
    """How long to keep retrying (`wait_s`, all attempts together) and how fast."""

    wait_s: float = DEFAULT_WAIT_S
    first_delay_s: float = 1.0  # Doubles after each failure, up to max_delay_s...
    max_delay_s: float = 30.0  # ...then each delay is drawn from [delay / 2, delay] (jitter).
    request_timeout_s: float = 20.0  # One request's limit (a server that accepts, never answers).


@dataclasses.dataclass(frozen=True)
class GcsPath:
    bucket: str
    prefix: str  # "" for the bucket's top; no leading or trailing slash.

    @classmethod
    def parse(cls, url: str) -> "GcsPath":
        bucket, _, prefix = url.removeprefix("gs://").partition("/")
        if not bucket:
            raise HarnessError(f"{url!r} names no bucket: pass --workdir=gs://BUCKET/PATH.")
        return cls(bucket, prefix.strip("/"))

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.prefix}" if self.prefix else f"gs://{self.bucket}"

    def object_name(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name


def is_gcs(path: str) -> bool:
    return path.startswith("gs://")


def check_gcs_workdir(url: str, *, write: bool, backoff: Backoff = Backoff()) -> None:
    """Fails now, in one line, if the bucket of `url` is missing, unreachable or closed to this
    identity: listing under `url` (every worker reads the chief's files) and, with `write`,
    creating then deleting a probe object there (what checkpointing does: the harness's role,
    roles/storage.objectUser, holds storage.objects.list/create/delete but not buckets.get, so
    the check never asks for the bucket itself)."""
    from google.api_core import exceptions as api_exceptions
    from google.cloud import storage

    path = GcsPath.parse(url)
    retry = _Retry(path, backoff)
    retry.credentials = retry.call("find credentials", _credentials)
    client = storage.Client(project=None, credentials=retry.credentials)  # No request yet.
    try:
        bucket = client.bucket(path.bucket)
    except ValueError as e:  # The client's own check of the name (length, first/last chars).
        raise HarnessError(f"{path}: {e} Fix --workdir.") from e

    def list_one(timeout):
        prefix = path.object_name("")
        blobs = client.list_blobs(bucket, prefix=prefix, max_results=1, retry=None, timeout=timeout)
        return list(blobs)

    retry.call("list", list_one)
    if not write:
        return
    probe = bucket.blob(path.object_name(f".write-probe-{uuid.uuid4().hex}"))

    def create(timeout):
        try:  # if_generation_match=0: only a new object; a retry after a lost reply gets 412.
            probe.upload_from_string(b"ok", if_generation_match=0, retry=None, timeout=timeout)
        except api_exceptions.PreconditionFailed:
            pass  # Created by the attempt whose reply was lost.

    def delete(timeout):
        try:
            probe.delete(retry=None, timeout=timeout)
        except api_exceptions.NotFound:
            pass  # Deleted by the attempt whose reply was lost.

    retry.call("create", create)
    retry.call("delete", delete)


def _credentials(timeout):
    """Application Default Credentials, as TensorFlow's gs:// filesystem finds them; none against
    an emulator (what the storage client itself does there). Bucket-level calls need no project.
    `timeout`: google-auth bounds its own metadata server requests."""
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    import google.auth

    credentials, _ = google.auth.default(scopes=[_SCOPE])
    return credentials


class _Retry:
    """Runs the check's steps under one shared deadline, retrying transient errors."""

    def __init__(self, path: GcsPath, backoff: Backoff):
        self._path, self._backoff = path, backoff
        self._deadline = time.monotonic() + backoff.wait_s
        self.credentials = None  # Known after the first step; named in a 401 or 403 message.

    def call(self, step: str, function):
        delay = self._backoff.first_delay_s
        attempt = 1
        while True:
            left = self._deadline - time.monotonic()
            timeout = max(1.0, min(self._backoff.request_timeout_s, left))
            try:
                return function(timeout)
            except Exception as e:  # Sorted below: transient errors are retried, others raised.
                if not is_transient(e):
                    permanent = self._permanent(step, e)
                    if permanent is None:
                        raise  # Not storage's answer: a bug to see whole.
                    raise permanent from e
                left = self._deadline - time.monotonic()
                if left <= 0:
                    raise StorageUnavailable(
                        f"{self._path}: storage did not answer within {self._backoff.wait_s:g} s "
                        f"({attempt} attempt(s) to {step}; last: {_describe(e)}). Restart "
                        "policies retry the run (exit 75); to wait longer at start, raise "
                        "config.checkpoint.storage_wait_s."
                    ) from e
                sleep = min(left, random.uniform(delay / 2, delay))
                logging.warning(
                    "%s: %s failed (%s); retry %d in %.1f s (%.1f s left).",
                    self._path,
                    step,
                    _describe(e),
                    attempt,
                    sleep,
                    left,
                )
                time.sleep(sleep)
                delay = min(delay * 2, self._backoff.max_delay_s)
                attempt += 1

    def _permanent(self, step: str, error: Exception) -> HarnessError | None:
        """The one line for storage's or google-auth's final answer; None for anything else."""
        from google.api_core import exceptions as api_exceptions
        from google.auth import exceptions as auth_exceptions

        path, bucket = self._path, self._path.bucket
        if isinstance(error, auth_exceptions.DefaultCredentialsError):
            return HarnessError(
                f"{path}: no Google credentials found ({first_line(error, 120)}). {_HOW_TO_AUTH}"
            )
        if no_token_for_identity(error):
            return HarnessError(
                f"{path}: the metadata server has no token for this machine's or pod's "
                f"identity (404 for {_metadata_path(error.__cause__)}). On GKE, bind the "
                "pod's Kubernetes service account through Workload Identity: grant it "
                "roles/iam.workloadIdentityUser on the Google service account (gcloud iam "
                "service-accounts add-iam-policy-binding GSA_EMAIL "
                "--role=roles/iam.workloadIdentityUser "
                '--member="serviceAccount:PROJECT.svc.id.goog[NAMESPACE/KSA]") and annotate '
                "it (kubectl annotate serviceaccount KSA "
                f"iam.gke.io/gcp-service-account=GSA_EMAIL), or grant the bucket role to the "
                f"principal of the pool ({_KUBERNETES_DOC}); on a VM, attach a service account."
            )
        if isinstance(error, auth_exceptions.RefreshError) or _status(error) == 401:
            who = identity_of(self.credentials).name
            return HarnessError(
                f"{path}: the credentials of {who} were refused ({_describe(error)}). "
                f"{_HOW_TO_AUTH}"
            )
        if isinstance(error, api_exceptions.NotFound):
            return HarnessError(
                f"{path}: bucket {bucket!r} does not exist ({_describe(error)}). Create it "
                f"(gcloud storage buckets create gs://{bucket} --location=REGION "
                "--uniform-bucket-level-access) or fix --workdir."
            )
        if isinstance(error, api_exceptions.Forbidden):
            identity = identity_of(self.credentials)
            return HarnessError(
                f"{path}: {identity.name} may not {step} objects in bucket {bucket!r} "
                f"({_describe(error)}). Grant it roles/storage.objectUser on the bucket: "
                f"gcloud storage buckets add-iam-policy-binding gs://{bucket} "
                f"--member={identity.member} --role=roles/storage.objectUser; on GKE the pods "
                f"get that identity through Workload Identity ({_KUBERNETES_DOC})."
            )
        if isinstance(error, api_exceptions.GoogleAPICallError):  # 400 (a bad name), 412, ...
            return HarnessError(
                f"{path}: storage refused to {step} ({_describe(error)}). Check --workdir."
            )
        return None


_HOW_TO_AUTH = (
    "On GKE, run the pods as a Kubernetes service account bound through Workload Identity "
    f"({_KUBERNETES_DOC}); on a GCE or TPU VM, attach a service account; elsewhere run "
    "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS to a key file."
)


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed: the network, an overloaded or restarting service,
    a metadata server not ready yet. The types google-cloud-storage's own retry uses."""
    import http.client

    import requests
    import urllib3
    from google.auth import exceptions as auth_exceptions

    if isinstance(error, auth_exceptions.DefaultCredentialsError):
        return False
    if isinstance(error, auth_exceptions.TransportError):
        return True  # The metadata server or a token endpoint did not answer.
    if isinstance(error, auth_exceptions.RefreshError):
        # Compute Engine credentials wrap the metadata server's TransportError in a RefreshError;
        # a token endpoint's 5xx comes marked retryable. An invalid grant is neither, and
        # neither is a metadata server that has no token for this identity (404): on GKE, a
        # Kubernetes service account that Workload Identity does not bind.
        if no_token_for_identity(error):
            return False
        return error.retryable or isinstance(error.__cause__, auth_exceptions.TransportError)
    if _status(error) is not None:
        return _status(error) in _TRANSIENT_STATUS
    return isinstance(
        error,
        (
            ConnectionError,  # Refused, reset, broken pipe.
            TimeoutError,
            requests.ConnectionError,  # Also DNS: NameResolutionError inside.
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            http.client.HTTPException,  # RemoteDisconnected, IncompleteRead, BadStatusLine.
            urllib3.exceptions.HTTPError,
        ),
    )


def no_token_for_identity(error: BaseException) -> bool:
    """Whether `error` is a metadata server's 404 for the token: google-auth's Compute Engine
    credentials raise RefreshError(TransportError("... Status: 404 ...")) for it."""
    from google.auth import exceptions as auth_exceptions

    cause = error.__cause__
    return (
        isinstance(error, auth_exceptions.RefreshError)
        and isinstance(cause, auth_exceptions.TransportError)
        and "metadata" in str(cause)
        and "Status: 404" in str(cause)
    )


def _metadata_path(error: BaseException) -> str:
    """The metadata server path a google-auth TransportError names, else "the token"."""
    found = re.search(r"/computeMetadata/v1/(\S+?)(?:\?|\s|$)", str(error))
    return found.group(1) if found else "the token"


def _status(error: BaseException) -> int | None:
    """The HTTP status of a google-api-core error, else None."""
    from google.api_core import exceptions as api_exceptions

    if isinstance(error, api_exceptions.GoogleAPICallError) and error.code is not None:
        return int(error.code)
    return None


def _describe(error: BaseException) -> str:
    """`503 ServiceUnavailable: the server's message` (without the URL google-api-core puts
    first), or the network error under requests' wrapping: `NameResolutionError: ... Failed to
    resolve 'host'`, `NewConnectionError: ... Connection refused`."""
    status = _status(error)
    if status is None:
        error = _deepest_urllib3_error(error) or error
        return f"{type(error).__name__}: {first_line(error, 160)}"
    errors = getattr(error, "errors", None) or [{}]
    message = errors[0].get("message") if isinstance(errors[0], dict) else None
    message = message or first_line(error, 400).split(": ", 1)[-1]
    if len(message) > 160:  # GCS's 403 says which permission in its first sentence.
        message = message.split(". ", 1)[0][:160]
    return f"{status} {type(error).__name__}: {message}"


def _deepest_urllib3_error(error: BaseException) -> BaseException | None:
    found, seen = None, set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if type(error).__module__.startswith("urllib3"):
            found = error
        reason = getattr(error, "reason", None)  # urllib3's MaxRetryError keeps it there.
        error = (
            reason if isinstance(reason, BaseException) else error.__cause__ or error.__context__
        )
    return found
