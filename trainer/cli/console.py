"""What the commands print: one `error: ...` line for a failure, and quiet library logs."""

import logging as python_logging
import os
import sys
import warnings

from absl import logging

from trainer.errors import BAD_INPUT_EXIT_CODE, process_exit_code


def fail(message: str, exit_code: int = BAD_INPUT_EXIT_CODE):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(process_exit_code(exit_code))


def quiet_logs() -> None:
    """Our lines, short; TensorFlow's and Keras's own INFO chatter (collectives, savers) hidden."""
    python_logging.getLogger("tensorflow").setLevel(python_logging.WARNING)
    warnings.filterwarnings("ignore", message="To make it possible to preserve tf.data options")
    handler = logging.get_absl_handler()
    handler.setFormatter(
        python_logging.Formatter("%(asctime)s %(levelname).1s %(message)s", "%H:%M:%S")
    )
    handler.addFilter(_drop_library_info)


def _drop_library_info(record) -> bool:
    path = record.pathname.replace(os.sep, "/")
    libraries = ("/tensorflow/", "/keras/", "/tf_keras/", "/tensorboard/")
    return record.levelno > python_logging.INFO or not any(lib in path for lib in libraries)
