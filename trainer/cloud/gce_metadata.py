"""The GCE metadata server, for the two notices it gives before a VM goes away.

Every Compute Engine VM, Cloud TPU VM and GKE node answers at metadata.google.internal
(`GCE_METADATA_HOST` or `GCE_METADATA_IP` override the address, as in google-auth and TensorFlow;
tests point them at a stand-in server on loopback):
- `instance/preempted` turns TRUE when a Spot or preemptible VM is being reclaimed;
- `instance/maintenance-event` turns TERMINATE_ON_HOST_MAINTENANCE about 60 s before a VM that
  cannot live-migrate (every GPU VM) is stopped for maintenance. MIGRATE_ON_HOST_MAINTENANCE is a
  live migration: the VM keeps running, so it is not a reason to stop.
Plain HTTP, the stdlib only: the watcher must not depend on credentials or the network.
"""

import http.client
import os
import urllib.error
import urllib.request

_HEADERS = {"Metadata-Flavor": "Google"}
_DEFAULT_HOST = "metadata.google.internal"
# The metadata server is link-local: never through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def metadata_host() -> str:
    return os.environ.get("GCE_METADATA_HOST") or os.environ.get("GCE_METADATA_IP") or _DEFAULT_HOST


def get(path: str, timeout_s: float = 2.0) -> str | None:
    """The value at `instance/...`-style `path`, or None where no metadata server answers (not on
    GCP, or not yet ready). A server must say `Metadata-Flavor: Google`: another cloud's
    169.254.169.254 does not count."""
    request = urllib.request.Request(
        f"http://{metadata_host()}/computeMetadata/v1/{path}", headers=_HEADERS
    )
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            if response.headers.get("Metadata-Flavor") != "Google":
                return None
            return response.read().decode("utf-8", "replace").strip()
    except (OSError, urllib.error.URLError, ValueError, http.client.HTTPException):
        return None  # Also a malformed answer: the watcher must not die of one.


def termination_notice() -> str | None:
    """Why this VM is about to stop, or None (also None off GCP)."""
    if (get("instance/preempted") or "").upper() == "TRUE":
        return "the GCE metadata server says this VM is preempted"
    event = get("instance/maintenance-event") or "NONE"
    if event.upper().startswith("TERMINATE"):
        return f"the GCE metadata server announces a maintenance event ({event})"
    return None


def on_gcp(timeout_s: float = 1.0) -> bool:
    return get("instance/id", timeout_s=timeout_s) is not None
