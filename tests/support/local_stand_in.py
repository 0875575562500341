"""A stand-in worker for launcher tests that need no TensorFlow (it starts in milliseconds):

    python -m tests.support.local_stand_in --strategy=multi_worker_mirrored RECORD PLAN [PLAN ...]

Worker i (from TF_CONFIG) appends a line to RECORD-i each time it starts, and on its n-th start
does what the i-th comma-separated word of the n-th PLAN says (the last PLAN repeats):
`ok` exits 0; `exitN` exits N; `sigkill` kills itself; `save` waits, and exits 42 on SIGTERM as
the trainer does; `stubborn` ignores SIGTERM (a worker stuck in TensorFlow's C++ start-up).
"""

import json
import os
import signal
import sys
import time


def main(argv: list[str]) -> None:
    record, plans = argv[2], argv[3:]
    cluster = json.loads(os.environ["TF_CONFIG"])
    index, workers = cluster["task"]["index"], len(cluster["cluster"]["worker"])
    with open(f"{record}-{index}", "a") as f:
        f.write("started\n")
    with open(f"{record}-{index}") as f:
        start = len(f.readlines())
    action = plans[min(start, len(plans)) - 1].split(",")[index]
    if action == "save":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))
    if action == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Ready: no worker acts before every worker's SIGTERM handler is in place.
    open(f"{record}-{index}.ready{start}", "w").close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(
        os.path.exists(f"{record}-{other}.ready{start}") for other in range(workers)
    ):
        time.sleep(0.01)
    print(f"{action} (pid {os.getpid()})", flush=True)
    if action == "ok":
        sys.exit(0)
    if action.startswith("exit"):
        sys.exit(int(action[len("exit") :]))
    if action == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
    sys.exit(99)  # The launcher should have stopped it long before.


if __name__ == "__main__":
    main(sys.argv)
