"""Files served over plain HTTP on loopback, in a thread of this process: a stand-in for a public
download URL (raw.githubusercontent.com and the like) that nothing outside the machine serves.

    with FileServer({"housing.csv": HOUSING_CSV}) as server:
        server.url("housing.csv")  # http://127.0.0.1:PORT/housing.csv
    # Stopped: the port refuses connections, as an offline machine would.

`requests` lists the paths asked for, in order; any other path is a 404. With `chunk_delay_s`, a
file goes out in 64 KiB chunks that far apart: a slow download, for what others see meanwhile.
"""

import http.server
import os
import threading
import time


class FileServer:
    def __init__(self, files: dict[str, str], *, chunk_delay_s: float = 0.0):
        """`files`: URL path without the leading slash -> local file to serve there."""
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                local = files.get(self.path.lstrip("/"))
                if local is None:
                    self.send_error(404, "File not found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(os.path.getsize(local)))
                self.end_headers()
                with open(local, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 16), b""):
                        self.wfile.write(chunk)
                        if chunk_delay_s:
                            self.wfile.flush()
                            time.sleep(chunk_delay_s)

            def log_message(self, *args):  # A line a request on stderr otherwise.
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stops serving and closes the port (idempotent)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
