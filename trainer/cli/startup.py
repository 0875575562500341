"""Hide TensorFlow's benign native start-up lines; let everything else on stderr through.

TensorFlow's C++ code writes a few lines straight to file descriptor 2 while it loads, before absl
logging is initialized, so TF_CPP_MIN_LOG_LEVEL does not hide them. On a machine without a GPU:

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1795442759.143508    2346 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1795442759.143983    2346 cudart_stub.cc:31] Could not find cuda drivers ...
    E0000 00:00:1795442761.738947    2346 cuda_platform.cc:52] failed call to cuInit: ... (303)

The first three come twice during `import tensorflow`, the cuInit line when devices are listed.
`quiet_native_startup` points fd 2 at a pipe and `release` points it back. A forwarder process
reads the pipe as it fills and copies every line to the real stderr at once, in order, except the
lines that match `BENIGN_PATTERNS`: a real error, a Python traceback, an `error: ...` line all pass.

Why a process and not a thread: TensorFlow writes these lines from C++ static initializers inside
`import tensorflow`, with the GIL held, so a Python thread could not read the pipe then. A burst
larger than the pipe (64 KiB) would block the writer for good, and a fatal C++ error
("F0000 ... Check failed", then abort()) would die with the process, unread. The forwarder has no
such limits; it outlives a crashed parent just long enough to copy what is left, and exits when
the pipe closes.

Standard library only, no TensorFlow: it must be imported before TensorFlow is.
"""

import atexit
import os
import re
import secrets
import select
import signal
import subprocess
import sys
import threading

# A line of absl/TensorFlow native logging up to the source file name, in either format:
#   I0000 00:00:1795442759.143508    2346 port.cc:153] ...   (absl before InitializeLog: the
#                                                              time is seconds since 1970)
#   2025-02-09 09:37:32.334610: E external/local_xla/.../cuda_dnn.cc:9261] ...  (older TF)
# Severity I, W or E only: a fatal line (F...) is never hidden.
_LOG = (
    r"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] )(?:\S*/)?"
)

# Native start-up lines that are harmless (on a machine without a GPU, most of them) and say
# nothing the harness does not say itself. `--verbose` shows them all.
BENIGN_PATTERNS = (
    # absl's notice that logging is not initialized yet: the header of the lines below.
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    # oneDNN (MKL) kernels are on by default on x86: results may differ in the last bits.
    _LOG + r"port\.cc:\d+\] oneDNN custom operations are on\.",
    # The CUDA runtime stub found no NVIDIA driver (libcuda.so): a CPU-only machine.
    _LOG + r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, "
    r"GPU will not be used\.",
    # The binary could use more CPU instructions (AVX512, ...) if rebuilt from source: an INFO
    # line followed by its continuation line below (shown when TF_CPP_MIN_LOG_LEVEL < 2).
    _LOG + r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available "
    r"CPU instructions in performance-critical operations\.",
    r"^To enable the following instructions: [\w ]+, in other operations, rebuild TensorFlow "
    r"with the appropriate compiler flags\.$",
    # GPU probing on a machine without a GPU: cuInit fails with 303 (the stub's answer when there
    # is no driver library) or CUDA_ERROR_NO_DEVICE (a driver but no GPU). Logged as an error
    # (E...), harmless: TensorFlow goes on with the CPU, and the harness logs the devices it uses.
    _LOG + r"\w+\.cc:\d+\] failed call to cuInit: .*"
    r"(?:\(303\)|CUDA_ERROR_NO_DEVICE|no CUDA-capable device is detected)",
    # GPU machines: a CUDA plugin registered a second time, the second one ignored.
    _LOG + r"cuda_(?:dnn|fft|blas)\.cc:\d+\] Unable to register (?:cuDNN|cuFFT|cuBLAS) factory: "
    r"Attempting to register factory for plugin (?:cuDNN|cuFFT|cuBLAS) when one has already "
    r"been registered",
)
# Not listed, as TensorFlow 2.21 no longer prints them (their text is in none of its libraries):
# "TF-TRT Warning: Could not find TensorRT" and "computation placer already registered".

# A partial line (no newline yet) waits this long for the rest, then goes through unfiltered.
_PARTIAL_LINE_WAIT_S = 0.1


class Held:
    """What `quiet_native_startup` returns: `release()` it once TensorFlow has started."""

    def __init__(self, forwarder=None, saved_fd=None, sentinel=b""):
        self._forwarder = forwarder
        self._saved_fd = saved_fd
        self._sentinel = sentinel
        self._hidden = 0
        self._released = forwarder is None
        self._lock = threading.Lock()
        if not self._released:
            atexit.register(self.release)

    @property
    def active(self) -> bool:
        """True while fd 2 is the pipe."""
        return not self._released

    def release(self) -> int:
        """Points fd 2 back at the real stderr once all that was written before has been copied
        there. Returns how many lines were hidden. Idempotent; also runs at exit."""
        with self._lock:
            if self._released:
                return self._hidden
            self._released = True
            _flush_python_stderr()
            try:  # The forwarder answers with the count once it reaches this line.
                os.write(2, self._sentinel + b"\n")
            except OSError:
                pass
            os.dup2(self._saved_fd, 2)  # Closes our last write end: the forwarder will see EOF.
            os.close(self._saved_fd)
            forwarder = self._forwarder
            try:
                answer = forwarder.stdout.readline()
                self._hidden = int(answer) if answer.strip().isdigit() else 0
                forwarder.stdout.close()
                # At once, unless a child process we started still holds the pipe: the
                # forwarder then goes on copying its lines until it exits.
                forwarder.wait(timeout=1.0)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            return self._hidden


def quiet_native_startup(verbose: bool) -> Held:
    """Hide BENIGN_PATTERNS lines on fd 2 until `release()`; call before importing TensorFlow.

    verbose=True hides nothing (the returned object's release does nothing). Child processes
    started before release write their stderr into the pipe too: release first if they may outlive
    the run's start-up.
    """
    if verbose or os.name != "posix":
        return Held()
    _flush_python_stderr()
    try:
        saved_fd = os.dup(2)  # The real stderr (not inherited by children).
    except OSError:  # No fd 2 at all: nothing to hide.
        return Held()
    sentinel = b"\0trainer.startup release " + secrets.token_hex(8).encode()
    read_fd, write_fd = os.pipe()
    try:
        forwarder = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), sentinel[1:].decode()],
            stdin=read_fd,
            stdout=subprocess.PIPE,
            stderr=saved_fd,
            close_fds=True,
            start_new_session=True,  # Ctrl-C (SIGINT to the terminal's group) must not kill it.
        )
    except OSError:
        for fd in (read_fd, write_fd, saved_fd):
            os.close(fd)
        return Held()
    os.close(read_fd)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    return Held(forwarder, saved_fd, sentinel)


def verbose_requested(argv) -> bool:
    """Whether absl-style argv asks for --verbose (--verbose, --verbose=true|t|1, --noverbose,
    --verbose=false|f|0, one dash or two; the last one wins; nothing after a bare `--`).
    For use before absl parses the flags, which happens after TensorFlow has loaded."""
    verbose = False
    for arg in argv[1:]:
        if arg == "--":
            break
        if not arg.startswith("-"):
            continue
        name, _, value = arg.lstrip("-").partition("=")
        if name == "verbose":  # absl's own reading: true|t|1 or false|f|0, any case.
            verbose = not value or value.lower() in ("true", "t", "1")
        elif name == "noverbose" and not value:
            verbose = False
    return verbose


def _flush_python_stderr() -> None:
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


def _is_benign(line: bytes, benign) -> bool:
    text = line.rstrip(b"\r").decode("utf-8", "replace")
    return any(pattern.search(text) for pattern in benign)


def _write(data: bytes) -> None:
    """Writes to our stderr, the real one; if it is gone, keeps draining so no writer blocks."""
    while data:
        try:
            data = data[os.write(2, data) :]
        except InterruptedError:
            continue
        except OSError:
            return


def _forward(sentinel: bytes) -> None:
    """The forwarder: stdin (the pipe) to stderr, less benign lines, until EOF. On `sentinel` it
    prints the hidden count to stdout; lines after it (from children) are still copied."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    benign = [re.compile(p) for p in BENIGN_PATTERNS]
    hidden = 0
    pending = b""  # The start of a line whose newline has not come yet.
    passing = False  # The start of the pending line already went through: pass its rest too.
    answered = False
    while True:
        if pending and not select.select([0], [], [], _PARTIAL_LINE_WAIT_S)[0]:
            _write(pending)
            pending, passing = b"", True
            continue
        try:
            chunk = os.read(0, 1 << 16)
        except InterruptedError:
            continue
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        out = []
        for line in lines:
            if line.endswith(sentinel):
                line = line[: -len(sentinel)]
                if line:
                    out.append(line + b"\n")
                _write(b"".join(out))
                out = []
                if not answered:
                    answered = True
                    _answer(hidden)
            elif passing or not _is_benign(line, benign):
                out.append(line + b"\n")
            else:
                hidden += 1
            passing = False
        _write(b"".join(out))
    if pending:
        if passing or not _is_benign(pending, benign):
            _write(pending)
        else:
            hidden += 1
    if not answered:
        _answer(hidden)


def _answer(hidden: int) -> None:
    try:
        os.write(1, b"%d\n" % hidden)
    except OSError:  # The parent is gone.
        pass


if __name__ == "__main__":
    _forward(("\0" + sys.argv[1]).encode())
