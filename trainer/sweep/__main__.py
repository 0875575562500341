"""`python -m trainer.sweep` and the console script `trainer-sweep`."""

import os
import sys

_NATIVE_STARTUP = None  # Held for the whole sweep: trials are child processes with their own.


def main() -> None:
    global _NATIVE_STARTUP
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: no C++ INFO.
    from trainer.cli import startup  # Standard library only.

    # TensorFlow's native start-up lines stay hidden (trainer/cli/startup.py); every other line
    # of stderr passes.
    _NATIVE_STARTUP = startup.quiet_native_startup(verbose=startup.verbose_requested(sys.argv))
    from trainer.sweep.main import run

    run()


if __name__ == "__main__":
    main()
