"""A stand-in GCE metadata server on loopback: what a GCE VM, Cloud TPU VM or GKE node answers.

Point a process at it with `GCE_METADATA_HOST=127.0.0.1:PORT` (google-auth) and `GCE_METADATA_IP`
(TensorFlow). It speaks the real protocol: requests without `Metadata-Flavor: Google` get 403,
answers carry `Metadata-Flavor: Google`, unknown paths 404. `values` holds the answers by path
under /computeMetadata/v1/, and a test changes them while a run goes on (a Spot preemption, a
maintenance notice); `requests` lists the paths asked for.
"""

import http.server
import threading

PREFIX = "/computeMetadata/v1/"


class MetadataServer:
    def __init__(self, values: dict[str, str] | None = None):
        self.values = {
            "instance/id": "1234567890",
            "instance/hostname": "trainer-vm.c.project.internal",
            "instance/preempted": "FALSE",
            "instance/maintenance-event": "NONE",
            "project/project-id": "stand-in-project",
            **(values or {}),
        }
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                server.requests.append(path)
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self._answer(403, "Missing Metadata-Flavor: Google header.")
                if path == "/":  # What google-auth's ping asks to tell a GCE machine.
                    return self._answer(200, "computeMetadata/")
                value = server.values.get(path.removeprefix(PREFIX))
                if not path.startswith(PREFIX) or value is None:
                    return self._answer(404, "Not found.")
                self._answer(200, value)

            def _answer(self, status: int, body: str):
                data = body.encode()
                self.send_response(status)
                self.send_header("Metadata-Flavor", "Google")
                self.send_header("Content-Type", "application/text")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def environment(self) -> dict[str, str]:
        return {"GCE_METADATA_HOST": self.address, "GCE_METADATA_IP": self.address}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
