"""Naming the identity behind google-auth credentials: real credential objects, and the GCE
metadata server played by a stand-in on loopback."""

import pytest
from google.auth import compute_engine, identity_pool
from google.auth.credentials import AnonymousCredentials
from google.oauth2 import credentials as user_credentials

from launch.workers import free_ports
from tests.support.gce_stand_in import MetadataServer
from trainer.cloud.gcp_identity import identity_of

EMAIL_PATH = "instance/service-accounts/default/email"


@pytest.fixture
def metadata(monkeypatch):
    """Returns a function that starts a stand-in metadata server answering `values`."""
    servers = []

    def start(values) -> MetadataServer:
        servers.append(MetadataServer(values))
        for name, value in servers[-1].environment.items():
            monkeypatch.setenv(name, value)
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_anonymous():
    assert identity_of(AnonymousCredentials()).name.startswith("anonymous")
    assert identity_of(None).member == "MEMBER"


def test_compute_engine_credentials_ask_the_metadata_server(metadata):
    server = metadata({EMAIL_PATH: "trainer-gsa@project-id.iam.gserviceaccount.com"})
    identity = identity_of(compute_engine.Credentials())
    assert identity.name == "trainer-gsa@project-id.iam.gserviceaccount.com"
    assert identity.member == "serviceAccount:trainer-gsa@project-id.iam.gserviceaccount.com"
    assert f"/computeMetadata/v1/{EMAIL_PATH}" in server.requests


def test_a_gke_pod_without_a_google_service_account_is_named_by_its_pool(metadata):
    metadata({EMAIL_PATH: "project-id.svc.id.goog"})
    identity = identity_of(compute_engine.Credentials())
    assert (
        "Kubernetes service account" in identity.name and "project-id.svc.id.goog" in identity.name
    )
    assert identity.member.startswith("principal://iam.googleapis.com/projects/PROJECT_NUMBER/")
    assert "workloadIdentityPools/project-id.svc.id.goog/subject/ns/NAMESPACE/sa/KSA" in (
        identity.member
    )


def test_compute_engine_credentials_without_a_metadata_server(monkeypatch):
    (port,) = free_ports(1)  # Nothing listens there: refused at once.
    monkeypatch.setenv("GCE_METADATA_HOST", f"127.0.0.1:{port}")
    identity = identity_of(compute_engine.Credentials())
    assert "the metadata server did not say" in identity.name and identity.member == "MEMBER"


def test_an_explicit_service_account_email_is_used_as_it_is():
    identity = identity_of(
        compute_engine.Credentials(service_account_email="sa@p.iam.gserviceaccount.com")
    )
    assert identity.member == "serviceAccount:sa@p.iam.gserviceaccount.com"


def test_user_credentials(tmp_path):
    named = user_credentials.Credentials(token="t", account="someone@example.com")
    assert identity_of(named).member == "user:someone@example.com"
    assert "gcloud user credentials" in identity_of(user_credentials.Credentials(token="t")).name


def test_an_external_account_names_its_pool(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("subject-token")
    audience = (
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/p"
    )
    credentials = identity_pool.Credentials.from_info(
        {
            "type": "external_account",
            "audience": audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": "https://sts.googleapis.com/v1/token",
            "credential_source": {"file": str(token_file)},
        }
    )
    identity = identity_of(credentials)
    assert "Workload Identity Federation" in identity.name and audience in identity.name
