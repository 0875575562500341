"""TensorFlow's own gs:// client against the Cloud Storage emulator on loopback.

TensorFlow's gs:// filesystem has no emulator setting: it always calls
https://www.googleapis.com and https://storage.googleapis.com. It does honour libcurl's
`https_proxy` and `CURL_CA_BUNDLE`, and takes a fixed token from `GOOGLE_AUTH_TOKEN_FOR_TESTING`.
So `TlsProxy` is an HTTPS proxy on loopback that answers CONNECT for those hosts, ends TLS with a
certificate from a CA made for the test, and passes the plain HTTP inside to a StorageFront
(tests/support/gcs_stand_in.py), which forwards to the emulator or fails on purpose. Every byte
the trainer writes to gs:// then goes through TensorFlow's real client, its retries and its
errors.

    with TlsProxy(front.url, tmp_path) as proxy:
        env = {**os.environ, **proxy.environment(front)}   # for a trainer subprocess
"""

import datetime
import os
import select
import socket
import socketserver
import ssl
import threading
import urllib.parse

GOOGLE_HOSTS = ("www.googleapis.com", "storage.googleapis.com", "oauth2.googleapis.com")
PUBLIC_URL = "https://www.googleapis.com"  # What a StorageFront puts in an upload's Location.


class TlsProxy:
    def __init__(self, upstream: str, directory: str):
        self.ca_file, cert_file, key_file = _make_certificates(str(directory), GOOGLE_HOSTS)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        address = urllib.parse.urlsplit(upstream)
        upstream_address = (address.hostname, address.port)
        self.tunnels: list[str] = []  # The CONNECT targets asked for, in order.
        proxy = self

        class Tunnel(socketserver.BaseRequestHandler):
            def handle(self):
                reader = self.request.makefile("rb")
                target = reader.readline().decode("latin-1").split()[1:2]
                while reader.readline() not in (b"\r\n", b"\n", b""):
                    pass  # The CONNECT request's headers.
                host = target[0].rsplit(":", 1)[0] if target else ""
                proxy.tunnels.append(host)
                if host not in GOOGLE_HOSTS:
                    self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                try:
                    client = context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # The client gave up during the handshake.
                with socket.create_connection(upstream_address) as server, client:
                    _pump(client, server)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Tunnel)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def environment(self, front) -> dict[str, str]:
        """What a process needs for its gs:// files to reach `front` (a StorageFront): TensorFlow
        through this proxy, the google-cloud-storage client (the check at start) directly."""
        return {
            "https_proxy": self.url,
            "HTTPS_PROXY": self.url,
            "CURL_CA_BUNDLE": self.ca_file,
            "GOOGLE_AUTH_TOKEN_FOR_TESTING": "stand-in-token",
            "NO_GCE_CHECK": "true",  # No metadata server to look for.
            "STORAGE_EMULATOR_HOST": front.url,
            # TensorFlow's own retries: once, quickly (by default ten, for a minute or two).
            "GCS_RETRY_CONFIG_MAX_RETRIES": "1",
            "GCS_RETRY_CONFIG_INIT_DELAY_TIME_US": "100000",
            "GCS_RETRY_CONFIG_MAX_DELAY_TIME_US": "200000",
        }

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "TlsProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _pump(client: ssl.SSLSocket, server: socket.socket) -> None:
    """Copies bytes both ways until either side closes."""
    while True:
        ready, _, _ = select.select([client, server], [], [], 120)
        if not ready:
            return
        for sock in ready:
            try:
                data = sock.recv(65536)
            except ssl.SSLWantReadError:
                continue  # A TLS record not complete yet.
            except OSError:
                return
            if not data:
                return
            (server if sock is client else client).sendall(data)
        while client.pending():  # Decrypted bytes that select() does not see.
            server.sendall(client.recv(client.pending()))


def _make_certificates(directory: str, hosts) -> tuple[str, str, str]:
    """A CA, and a certificate it signs for `hosts`: (CA file, certificate file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common_name):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def certificate(subject, issuer, public_key, signing_key, extension):
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(*extension)
        )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("stand-in certificate authority")
    ca = certificate(
        ca_name,
        ca_name,
        ca_key.public_key(),
        ca_key,
        (x509.BasicConstraints(ca=True, path_length=None), True),
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName([x509.DNSName(host) for host in hosts])
    leaf = certificate(name(hosts[0]), ca_name, key.public_key(), ca_key, (names, False))
    files = [os.path.join(directory, f) for f in ("ca.pem", "certificate.pem", "key.pem")]
    pem = serialization.Encoding.PEM
    key_bytes = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for path, data in zip(
        files, (ca.public_bytes(pem), leaf.public_bytes(pem), key_bytes), strict=True
    ):
        with open(path, "wb") as f:
            f.write(data)
    return files[0], files[1], files[2]
