"""Kubernetes quantities are parsed as the API server parses them."""

import re
from fractions import Fraction

import pytest

from launch.k8s.quantity import parse_quantity
from tests.support.k8s_schemas import crd_schema


@pytest.mark.parametrize(
    "text, value",
    [
        ("2", 2),
        ("0.5", Fraction(1, 2)),
        ("500m", Fraction(1, 2)),
        ("8Gi", 8 * 2**30),
        ("1.5Gi", 3 * 2**29),
        ("64M", 64 * 10**6),
        ("1k", 1000),
        ("1e3", 1000),
        ("2E", 2 * 10**18),
        ("250u", Fraction(1, 4000)),
        (".5", Fraction(1, 2)),
        ("+1", 1),
    ],
)
def test_valid_quantities_have_their_exact_value(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text", ["", "two", "8GB", "8gi", "1 Gi", " 1", "1.2.3", "Gi", "1e", "1K", "1\n"]
)
def test_invalid_quantities_are_refused(text):
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


def _resource_pattern():
    """The quantity pattern the API server publishes (from the JobSet CRD's pod resources)."""
    spec = crd_schema("JobSet")["properties"]["spec"]["properties"]
    claims = spec["volumeClaimPolicies"]["items"]["properties"]["templates"]["items"]
    requests = claims["properties"]["spec"]["properties"]["resources"]["properties"]["requests"]
    return re.compile(requests["additionalProperties"]["pattern"])


@pytest.mark.parametrize("text", ["2", "500m", "8Gi", "1e3", "8GB", "8gi", "1K", "two", "1.5Gi"])
def test_the_parser_agrees_with_kubernetes_published_pattern(text):
    try:
        parse_quantity(text)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == bool(_resource_pattern().match(text))
