"""The cloud a run lives in: being told to stop, and storage that must answer.

    preemption.py    the termination watcher: SIGTERM and GCE notices, agreed across workers
    gce_metadata.py  the GCE metadata server (stand-ins on loopback in the tests)
    gcp_identity.py  which service account a run is, for errors that name it
    storage.py       the gs:// workdir check at start: retried, then exit 75 or one line

May import: trainer.errors. No TensorFlow: the watcher starts before TensorFlow loads.
"""
