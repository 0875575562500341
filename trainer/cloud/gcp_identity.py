"""Who a set of Google credentials acts as, for an error message that says whom to grant a role.

Asked only after storage refused a request, never on the happy path: naming the identity of
credentials that come from the metadata server (a GCE VM, a Cloud TPU VM, a GKE pod through
Workload Identity) takes one more request to that server, and that server alone knows it.
"""

import dataclasses

from trainer.cloud import gce_metadata


@dataclasses.dataclass(frozen=True)
class Identity:
    name: str  # For people: an email, or what kind of credentials these are.
    member: str  # For `gcloud ... add-iam-policy-binding --member=`; "MEMBER" when unknown.


def identity_of(credentials) -> Identity:
    """The identity behind google-auth `credentials` (any kind), as well as can be told."""
    from google.auth import compute_engine, external_account
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import credentials as user_credentials

    if credentials is None or isinstance(credentials, AnonymousCredentials):
        return Identity("anonymous (no credentials)", "MEMBER")
    email = getattr(credentials, "service_account_email", None)
    if isinstance(credentials, compute_engine.Credentials) and email in (None, "default"):
        # google-auth learns the email at the first token refresh, which may not have happened.
        email = gce_metadata.get("instance/service-accounts/default/email")
        if email is None:
            return Identity(
                "this machine's service account (the metadata server did not say)", "MEMBER"
            )
    if email and "@" in email:
        return Identity(email, f"serviceAccount:{email}")
    if email and email.endswith(".svc.id.goog"):
        # Workload Identity Federation for GKE without a Google service account: the metadata
        # server names only the pool; the member is the pod's Kubernetes service account.
        return Identity(
            f"the pod's Kubernetes service account (workload pool {email})",
            f"principal://iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/"
            f"workloadIdentityPools/{email}/subject/ns/NAMESPACE/sa/KSA",
        )
    if isinstance(credentials, external_account.Credentials):
        audience = credentials.info.get("audience", "")
        return Identity(f"an external account (Workload Identity Federation: {audience})", "MEMBER")
    if isinstance(credentials, user_credentials.Credentials):  # gcloud auth application-default
        if credentials.account:
            return Identity(credentials.account, f"user:{credentials.account}")
        return Identity("your gcloud user credentials (the account is not recorded)", "MEMBER")
    kind = f"{type(credentials).__module__}.{type(credentials).__name__}"
    return Identity(f"unknown ({kind})", "MEMBER")
