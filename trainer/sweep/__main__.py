import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ INFO noise.

from trainer.cli import startup  # noqa: E402  (standard library only)

# TensorFlow's native start-up lines stay hidden for the whole sweep (trainer/cli/startup.py);
# every other line of stderr passes. Trials are child processes with their own output.
_NATIVE_STARTUP = startup.quiet_native_startup(verbose=startup.verbose_requested(sys.argv))

from trainer.sweep.main import run  # noqa: E402

run()
