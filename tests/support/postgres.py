"""A real PostgreSQL server on loopback, from Debian's package (.ci/run installs it)."""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from launch.workers import free_ports


@contextlib.contextmanager
def postgres_server():
    """Yields the URL of a fresh database on a server of its own; skips without PostgreSQL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not found[-1]:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (as .ci/run does).")
    bindir = os.path.dirname(found[-1])
    data = tempfile.mkdtemp(prefix="sweep_pg_", dir="/tmp")
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root.
        os.chown(data, pwd.getpwnam("postgres").pw_uid, -1)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_ports(1)[0]
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"

    def run(*argv):
        subprocess.run(as_user + list(argv), check=True, capture_output=True, timeout=120)

    run(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run(f"{bindir}/pg_ctl", "-D", data, "-l", f"{data}/log", "-o", options, "-w", "start")
    try:
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "sweeps")
        yield f"postgresql://postgres@127.0.0.1:{port}/sweeps"
    finally:
        run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)
