"""Cloud Storage on loopback: an emulator, and a front server that answers errors in GCS's format.

`Emulator` runs gcp-storage-emulator (the JSON API, in memory) in this process; the storage
client reaches it through `STORAGE_EMULATOR_HOST`. Emulators do not enforce IAM or fail on
purpose, so `StorageFront` sits in front of one: it forwards requests, except those its rule
picks, which get GCS's JSON error body with the chosen status (a 403 for one bucket, a 503 for
the first N requests, 503 forever). It also answers POST /token as an OAuth token endpoint, for
service-account credentials whose key file points there.
"""

import http.client
import http.server
import json
import logging
import re
import threading
import urllib.parse

from launch.workers import free_ports

_REASONS = {
    401: ("required", "Anonymous caller does not have storage.objects.list access."),
    403: (
        "forbidden",
        "{caller} does not have storage.objects.{permission} access to the Google Cloud "
        "Storage bucket. Permission 'storage.objects.{permission}' denied on resource "
        "(or it may not exist).",
    ),
    429: ("rateLimitExceeded", "The project exceeded the rate limit."),
    500: ("backendError", "Backend Error"),
    503: ("backendError", "We encountered an internal error. Please try again."),
}
_PERMISSIONS = {"GET": "list", "POST": "create", "DELETE": "delete"}


class Emulator:
    def __init__(self, bucket: str):
        from gcp_storage_emulator.server import create_server

        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)  # A line a request.
        _accept_empty_uploads()
        (port,) = free_ports(1)
        self._server = create_server("127.0.0.1", port, in_memory=True, default_bucket=bucket)
        self._server.start()
        self.url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self._server.stop()


def _accept_empty_uploads() -> None:
    """gcp-storage-emulator reads an empty body as None and then fails on its length: an empty
    object (TensorFlow's directory markers, "dir/") gets no answer. Such a body is b"" here."""
    from gcp_storage_emulator.handlers import objects

    upload = objects._media_upload
    if getattr(upload, "accepts_empty", False):
        return

    def media_upload(request, response, storage):
        if request.data is None:
            request._data = b""
        return upload(request, response, storage)

    media_upload.accepts_empty = True
    objects._media_upload = media_upload


class StorageFront:
    """Forwards to `upstream` (a URL, or None: nothing behind), answering `status` instead to
    requests for `bucket` (None: any) made with one of `methods` (None: any), the first `times`
    of them (None: all); with `lost_reply`, after forwarding them (the work is done, the reply
    lost). Only object requests count: google-cloud-storage also fetches the bucket's metadata in
    a background thread (for tracing, errors ignored), which passes through untouched.
    `requests` lists the object requests, "METHOD /path", as they came; `caller` is the identity
    a 403's message names, as GCS does. With `start_after` (a regular expression), the rule
    applies only after an object request whose unquoted path matches it: storage that fails
    mid-run. `public_url` replaces the upstream's address in the URLs it hands out (a resumable
    upload's Location), for clients that reach this front under another name."""

    def __init__(
        self,
        upstream: str | None,
        *,
        status: int | None = None,
        times: int | None = None,
        bucket: str | None = None,
        methods=None,
        caller: str = "anonymous caller",
        lost_reply: bool = False,
        port: int = 0,
        public_url: str | None = None,
        start_after: str | None = None,
    ):
        self.upstream = urllib.parse.urlsplit(upstream) if upstream else None
        self.status, self.times, self.bucket, self.methods = status, times, bucket, methods
        self.caller, self.lost_reply = caller, lost_reply
        self.public_url = public_url
        self.start_after = re.compile(start_after) if start_after else None
        self.started = start_after is None  # Whether the rule applies yet.
        self.requests: list[str] = []
        self.errors_sent = 0
        self._lock = threading.Lock()
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # Keep-alive, as the client's connection pool expects.

            def _handle(self):
                body = self._body()
                if self.command == "POST" and self.path.startswith("/token"):
                    return self._send(200, json.dumps({"access_token": "t", "expires_in": 3600}))
                error = front._error_for(self.command, self.path)
                if error is not None and not front.lost_reply:
                    return self._send(*error)
                if front.upstream is None:
                    return self._send(404, json.dumps({"error": {"code": 404, "message": "?"}}))
                connection = http.client.HTTPConnection(front.upstream.netloc, timeout=30)
                dropped = ("host", "transfer-encoding", "content-length")  # The body is whole.
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                content_type = response.getheader("Content-Type", "application/json")
                extra = front._passed_headers(response)
                connection.close()
                if error is not None:  # lost_reply: done upstream, but the client hears an error.
                    return self._send(*error)
                self._send(response.status, data, content_type, extra)

            def _body(self) -> bytes:
                """The request's body, sent whole or in chunks (TensorFlow's uploads)."""
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    length = int(self.headers.get("Content-Length") or 0)
                    return self.rfile.read(length) if length else b""
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()  # The CRLF after each chunk.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # Trailers, up to the blank line.
                return b"".join(chunks)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

            def _send(self, status, body, content_type="application/json; charset=UTF-8", extra=()):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in extra:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _passed_headers(self, response) -> list[tuple[str, str]]:
        """The upstream's headers a client acts on: a resumable upload's Location (its session
        URL, moved to `public_url` so that the upload's next requests come here too) and Range
        (how much of it the upstream holds)."""
        passed = []
        location = response.getheader("Location")
        if location:
            if self.public_url:
                parts = urllib.parse.urlsplit(location)
                public = urllib.parse.urlsplit(self.public_url)
                location = parts._replace(scheme=public.scheme, netloc=public.netloc).geturl()
            passed.append(("Location", location))
        if response.getheader("Range"):
            passed.append(("Range", response.getheader("Range")))
        return passed

    def _error_for(self, method: str, path: str):
        """(status, GCS's JSON error body) for a request the rule picks, else None."""
        if not re.search(r"/b/[^/?]+/o(/|\?|$)", path):
            return None  # The client's background fetch of bucket metadata, for its tracing.
        with self._lock:
            self.requests.append(f"{method} {path}")
            if not self.started:
                self.started = bool(self.start_after.search(urllib.parse.unquote(path)))
                return None  # The request that starts the rule passes.
            picked = (
                self.status is not None
                and (self.bucket is None or f"/b/{self.bucket}/" in path)
                and (self.methods is None or method in self.methods)
                and (self.times is None or self.errors_sent < self.times)
            )
            if not picked:
                return None
            self.errors_sent += 1
        reason, message = _REASONS[self.status]
        message = message.format(caller=self.caller, permission=_PERMISSIONS.get(method, "get"))
        errors = [{"message": message, "domain": "global", "reason": reason}]
        error = {"code": self.status, "message": message, "errors": errors}
        return self.status, json.dumps({"error": error})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
