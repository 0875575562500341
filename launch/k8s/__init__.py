"""Kubernetes manifests for the harness, one job per module (launch/kubernetes.py is the command):

    options.py       the launch's options as one frozen dataclass, and every range check
    quantity.py      Kubernetes resource quantities ("500m", "8Gi"), parsed as the API server does
    accelerators.py  GKE GPU types and TPU slices (chips, hosts, topology)
    pods.py          the pod template every shape shares: security, resources, placement
    shapes.py        the workloads: Job + Service, JobSet, TFJob, and the sweep's Job

docs/kubernetes.md walks through a cluster engineer's choices (Workload Identity for gs://,
the Pod Security Standard, Kueue, clean-up).
"""
