"""Validates rendered manifests as strictly as `kubectl apply --validate=strict` would.

Core kinds (Service, Job, the pod templates inside custom resources) go through
kubernetes-validate's strict schemas of a Kubernetes release. JobSet and TFJob go through their
CRDs' openAPIV3Schema (vendored under tests/support/schemas/, see the header of each file), made
strict the way the API server's field validation is: an unknown field is an error wherever the
schema lists its properties and does not preserve unknown fields. What the CRD leaves to the
controller's admission webhook (names, enums kept in Go) is checked here from its source, cited per
rule.
"""

import copy
import functools
import os
import re

import jsonschema
import kubernetes_validate
import yaml

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
_SCHEMA_FILES = {"JobSet": "jobset_v0.12.0_schema.yaml", "TFJob": "tfjob_v1.9.0_schema.yaml"}
# kubeflow/training-operator v1.9.0, pkg/apis/kubeflow.org/v1: tensorflow_types.go (replica
# types), common_types.go (RestartPolicy, CleanPodPolicy); webhooks/tensorflow/tfjob_webhook.go.
_TFJOB_REPLICA_TYPES = {"Chief", "Master", "Worker", "PS", "Evaluator"}
_TFJOB_RESTART_POLICIES = {"Always", "OnFailure", "Never", "ExitCode"}
_TFJOB_CLEAN_POD_POLICIES = {"None", "Running", "All"}
# kubernetes-sigs/jobset v0.12.0, api/jobset/v1alpha2/jobset_types.go (FailurePolicyRule.Name).
_JOBSET_RULE_NAME = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def validate(document: dict, version: str) -> None:
    """Raises (jsonschema or kubernetes_validate ValidationError, or AssertionError for a
    webhook rule) if the API server at `version`, with JobSet v0.12.0 or the training operator
    v1.9.0 installed, would refuse `document`."""
    kind = document.get("kind")
    if kind == "JobSet":
        _validate_custom_resource(document, version)
        _check_jobset_webhook(document)
        for replicated in document["spec"]["replicatedJobs"]:
            job = {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": f"{document['metadata']['name']}-{replicated['name']}-0"},
                "spec": replicated["template"]["spec"],
            }
            kubernetes_validate.validate(job, version, strict=True)
    elif kind == "TFJob":
        _validate_custom_resource(document, version)
        _check_tfjob_webhook(document)
        for replica_type, replicas in document["spec"]["tfReplicaSpecs"].items():
            template = {
                "apiVersion": "v1",
                "kind": "PodTemplate",
                "metadata": {"name": f"{document['metadata']['name']}-{replica_type.lower()}"},
                "template": replicas["template"],
            }
            kubernetes_validate.validate(template, version, strict=True)
    else:
        kubernetes_validate.validate(document, version, strict=True)


def pod_templates(document: dict) -> list[dict]:
    """Every pod template in a rendered document, whatever its kind."""
    kind = document["kind"]
    if kind == "Job":
        return [document["spec"]["template"]]
    if kind == "JobSet":
        return [r["template"]["spec"]["template"] for r in document["spec"]["replicatedJobs"]]
    if kind == "TFJob":
        return [r["template"] for r in document["spec"]["tfReplicaSpecs"].values()]
    return []


@functools.cache
def crd_schema(kind: str) -> dict:
    with open(os.path.join(DATA, _SCHEMA_FILES[kind])) as f:
        return _strict(yaml.safe_load(f))


def _validate_custom_resource(document: dict, version: str) -> None:
    jsonschema.Draft7Validator(crd_schema(document["kind"])).validate(document)
    # The CRD schema leaves metadata open; the API server checks it as the ObjectMeta of any kind.
    probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": document["metadata"]}
    kubernetes_validate.validate(probe, version, strict=True)


def _strict(schema):
    """Unknown fields become errors, as with kubectl's default --validate=strict."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return schema


def _check_jobset_webhook(document: dict) -> None:
    """pkg/webhooks/jobset_webhook.go (ValidateCreate) and the API types' documented rules."""
    name = document["metadata"]["name"]
    for rule in document["spec"].get("failurePolicy", {}).get("rules", []):
        assert _JOBSET_RULE_NAME.match(rule["name"]), f"failure policy rule name {rule['name']!r}"
    for replicated in document["spec"]["replicatedJobs"]:
        job = replicated["template"]["spec"]
        longest_pod = (
            f"{name}-{replicated['name']}-{replicated.get('replicas', 1) - 1}-"
            f"{job['completions'] - 1}-abcde"
        )
        assert len(longest_pod) <= 63 and _DNS_1035_LABEL.match(longest_pod), longest_pod


def _check_tfjob_webhook(document: dict) -> None:
    """pkg/webhooks/tensorflow/tfjob_webhook.go: a DNS-1035 name, at most one chief, a container
    named `tensorflow` with an image in every replica; the Go enums the CRD does not carry."""
    assert _DNS_1035_LABEL.match(document["metadata"]["name"])
    spec = document["spec"]
    assert spec["runPolicy"].get("cleanPodPolicy", "None") in _TFJOB_CLEAN_POD_POLICIES
    replica_specs = spec["tfReplicaSpecs"]
    assert set(replica_specs) <= _TFJOB_REPLICA_TYPES, sorted(replica_specs)
    assert len({"Chief", "Master"} & set(replica_specs)) <= 1
    for replicas in replica_specs.values():
        assert replicas.get("restartPolicy", "Never") in _TFJOB_RESTART_POLICIES
        containers = replicas["template"]["spec"]["containers"]
        assert all(c.get("image") for c in containers)
        assert any(c["name"] == "tensorflow" for c in containers), [c["name"] for c in containers]
