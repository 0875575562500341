# The trainer for Kubernetes (launch/kubernetes.py) or any container runtime:
#   docker build -t trainer .                          # CPU
#   docker build -t trainer-gpu --build-arg EXTRAS=gpu .   # + CUDA libraries for NVIDIA GPUs
#   docker run --rm trainer --config=configs/digits_mlp.py --workdir=/tmp/run
#
# Pinned by digest: a rebuild gets the same Python and Debian. To move on, take the new digest
# from `docker buildx imagetools inspect python:3.11-slim` and change it here.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ARG EXTRAS=""
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

# dumb-init as PID 1: the kernel drops signals to PID 1 that it has no handler for, so a Python
# PID 1 would ignore SIGTERM while it starts up and never reap zombies. It forwards SIGTERM to
# the trainer, which saves and exits 42 (docs/workers.md, "Preemption"). Pinned; a static binary.
RUN pip install --no-cache-dir dumb-init==1.2.5.post1 \
    && useradd --create-home --uid 1000 trainer
WORKDIR /home/trainer/app

# Dependencies first, read from pyproject.toml alone: editing the code or the README keeps this
# layer (and its TensorFlow) cached. pyproject.toml pins what they need.
COPY pyproject.toml ./
RUN python -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
extras = [e for e in sys.argv[1].split(",") if e]; \
print("\n".join(p["dependencies"] + [d for e in extras for d in p["optional-dependencies"][e]]))' \
    "${EXTRAS}" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md ./
COPY configs configs
COPY launch launch
COPY strategies strategies
COPY trainer trainer
# The project itself; its dependencies are the layer above.
RUN pip install --no-cache-dir --no-deps .

USER 1000
ENTRYPOINT ["dumb-init", "--", "python", "-m", "trainer.main"]
CMD ["--strategy=auto"]
