"""trainer/cli/startup.py in child processes: benign native start-up lines hidden, all else kept."""

import os
import select
import subprocess
import sys
import textwrap

import pytest

from tests.support.helpers import REPO

# Real lines from TensorFlow 2.21 starting on a machine without a GPU, and their older forms.
BENIGN = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795442759.143508    2346 port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors from "
    "different computation orders. To turn them off, set the environment variable "
    "`TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1795442759.143983    2346 cudart_stub.cc:31] Could not find cuda drivers on your "
    "machine, GPU will not be used.",
    "I0000 00:00:1795442759.198679    2346 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI FMA, in "
    "other operations, rebuild TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
    "2023-11-28 16:42:02.738968: E tensorflow/stream_executor/cuda/cuda_driver.cc:328] failed call "
    "to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected",
    "E0000 00:00:1745550816.949046 2134991 cuda_dnn.cc:8579] Unable to register cuDNN factory: "
    "Attempting to register factory for plugin cuDNN when one has already been registered",
    "2025-02-09 09:37:32.334667: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:607] "
    "Unable to register cuFFT factory: Attempting to register factory for plugin cuFFT when one "
    "has already been registered",
    "E0000 00:00:1745550816.953297 2134991 cuda_blas.cc:1407] Unable to register cuBLAS factory: "
    "Attempting to register factory for plugin cuBLAS when one has already been registered",
]

REAL = [
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] something real failed",
    # Look-alikes of benign lines that are not: a fatal line, another cuInit error.
    "F0000 00:00:1795442761.738947    2346 port.cc:153] oneDNN custom operations are on.",
    "E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: CUDA_ERROR_OUT_OF_MEMORY: out of memory",
]


def run_child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
    )


def hold_write_release(verbose: bool) -> subprocess.CompletedProcess:
    """A child: holds, writes BENIGN and REAL interleaved to fd 2 and a Python line to sys.stderr,
    releases (twice), writes after; prints the hidden counts on stdout."""
    return run_child(
        f"""
        import os, sys
        from trainer.cli import startup
        held = startup.quiet_native_startup(verbose={verbose})
        os.write(2, ("\\n".join({BENIGN[:3]!r}) + "\\n").encode())
        os.write(2, ({REAL[0]!r} + "\\n").encode())
        print("error: from Python during the hold", file=sys.stderr)
        os.write(2, ("\\n".join({BENIGN[3:5]!r}) + "\\n").encode())  # One write, two lines.
        for line in {REAL[1:] + BENIGN[5:]!r}:
            os.write(2, (line + "\\n").encode())
        print(held.release(), held.release(), held.active)
        print("after the release", file=sys.stderr)
        """
    )


def test_hides_only_the_benign_lines_and_keeps_the_rest_in_order():
    child = hold_write_release(verbose=False)
    assert child.returncode == 0, child.stderr
    assert child.stderr.splitlines() == [
        REAL[0],
        "error: from Python during the hold",
        *REAL[1:],
        "after the release",
    ]
    assert child.stdout.split() == [str(len(BENIGN)), str(len(BENIGN)), "False"]


def test_verbose_shows_everything():
    child = hold_write_release(verbose=True)
    assert child.returncode == 0, child.stderr
    assert child.stderr.splitlines() == [
        *BENIGN[:3],
        REAL[0],
        "error: from Python during the hold",
        *BENIGN[3:5],
        *REAL[1:],
        *BENIGN[5:],
        "after the release",
    ]
    assert child.stdout.split() == ["0", "0", "False"]


def test_an_uncaught_exception_before_the_release_still_shows_its_traceback():
    child = run_child(
        f"""
        import os
        from trainer.cli import startup
        held = startup.quiet_native_startup(verbose=False)
        os.write(2, ({BENIGN[0]!r} + "\\n").encode())
        raise RuntimeError("boom")
        """
    )
    assert child.returncode == 1
    assert child.stderr.startswith("Traceback (most recent call last):\n"), child.stderr
    assert child.stderr.endswith("RuntimeError: boom\n")
    assert "absl" not in child.stderr


def test_sys_exit_with_an_error_line_before_the_release_still_shows_it():
    child = run_child(
        f"""
        import os, sys
        from trainer.cli import startup
        held = startup.quiet_native_startup(verbose=False)
        os.write(2, ({BENIGN[1]!r} + "\\n").encode())
        print("error: x", file=sys.stderr)
        sys.exit(2)
        """
    )
    assert (child.returncode, child.stderr) == (2, "error: x\n")


def test_a_fatal_native_error_survives_the_abort_it_is_followed_by():
    # abort() right after the write: whatever reads the pipe must outlive the process.
    child = run_child(
        f"""
        import os
        from trainer.cli import startup
        held = startup.quiet_native_startup(verbose=False)
        fatal = "F0000 00:00:1.5 1 check.cc:1] Check failed: x\\n"
        os.write(2, ({BENIGN[0]!r} + "\\n" + fatal).encode())
        os.abort()
        """
    )
    assert child.returncode == -6
    assert child.stderr == "F0000 00:00:1.5 1 check.cc:1] Check failed: x\n"


def test_a_burst_larger_than_the_pipe_written_with_the_gil_held_does_not_deadlock():
    # Like TensorFlow's static initializers inside `import tensorflow`: C code, GIL held.
    child = run_child(
        """
        import ctypes
        from trainer.cli import startup
        held = startup.quiet_native_startup(verbose=False)
        burst = b"".join(b"line %06d\\n" % i for i in range(100_000))  # 1.2 MB
        ctypes.PyDLL(None).write(2, burst, len(burst))
        print(held.release())
        """,
        timeout=30,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    lines = child.stderr.splitlines()
    assert lines == [f"line {i:06d}" for i in range(100_000)]
    assert child.stdout == "0\n"


def test_lines_pass_at_once_and_a_partial_line_is_not_held_back():
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import os, sys
                from trainer.cli import startup
                held = startup.quiet_native_startup(verbose=False)
                os.write(2, b"error: at once\\n")
                sys.stdin.readline()
                os.write(2, b"E0000 a partial line")
                sys.stdin.readline()
                os.write(2, b" and its end\\n")
                held.release()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        assert _read_within(child.stderr, 10) == b"error: at once\n"
        child.stdin.write(b"\n")
        child.stdin.flush()
        assert _read_within(child.stderr, 10) == b"E0000 a partial line"
        child.stdin.write(b"\n")
        child.stdin.flush()
        assert child.stderr.read() == b" and its end\n"
        assert child.wait(timeout=10) == 0
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stderr.close()


def _read_within(stream, seconds: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"nothing on the child's stderr within {seconds}s"
    return os.read(stream.fileno(), 1 << 16)


def test_tensorflow_starting_prints_no_cuinit_or_onednn_line():
    code = """
        import sys
        from trainer.cli import startup
        held = startup.quiet_native_startup(verbose={verbose})
        import tensorflow as tf
        tf.config.list_physical_devices()
        print(held.release())
        print("devices listed", file=sys.stderr)
        """
    quiet = run_child(code.format(verbose=False), timeout=120)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines()[-1] == "devices listed"
    assert "cuInit" not in quiet.stderr and "oneDNN" not in quiet.stderr, quiet.stderr
    if quiet.stdout == "0\n":
        pytest.skip("this TensorFlow build prints no native start-up line here")
    # The same lines with verbose=True, for the record that they are real.
    loud = run_child(code.format(verbose=True), timeout=120)
    assert loud.returncode == 0, loud.stderr
    shown = [line for line in loud.stderr.splitlines() if line != "devices listed"]
    assert len(shown) == int(quiet.stdout), loud.stderr


def test_startup_does_not_import_tensorflow():
    child = run_child(
        """
        import sys
        from trainer.cli import startup
        startup.quiet_native_startup(verbose=False).release()
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    assert (child.returncode, child.stdout) == (0, "[]\n"), child.stderr
