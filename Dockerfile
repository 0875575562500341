# The trainer for Kubernetes (launch/kubernetes.py) or any container runtime:
#   docker build -t trainer .                          # CPU
#   docker build -t trainer-gpu --build-arg EXTRAS=gpu .   # + CUDA libraries for NVIDIA GPUs
#   docker run --rm trainer --config=configs/digits_mlp.py --workdir=/tmp/run
FROM python:3.11-slim

ARG EXTRAS=""
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 1000 trainer
WORKDIR /home/trainer/app

# Dependencies first: they change less often than the code, so this layer stays cached.
# (DL3013: this installs the project itself; pyproject.toml pins what it needs.)
COPY pyproject.toml README.md ./
COPY configs/__init__.py configs/
COPY launch/__init__.py launch/
COPY strategies/__init__.py strategies/
COPY trainer/__init__.py trainer/
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"

COPY configs configs
COPY launch launch
COPY strategies strategies
COPY trainer trainer
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --no-deps ".${EXTRAS:+[$EXTRAS]}"

USER 1000
ENTRYPOINT ["python", "-m", "trainer.main"]
CMD ["--strategy=auto"]
