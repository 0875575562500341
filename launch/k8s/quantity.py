"""Kubernetes resource quantities ("2", "500m", "8Gi", "1.5e3"), parsed as the API server does.

A quantity the API server refuses makes `kubectl apply` fail after the manifest was rendered, and
the JSON schemas do not check the format: the launcher parses each one first and names the bad
flag. The grammar is k8s.io/apimachinery's resource.Quantity:
    <signed number><suffix>, suffix = Ki Mi Gi Ti Pi Ei | n u m "" k M G T P E | e<signed int>
"""

import re
from fractions import Fraction

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
GI = 2**30


def parse_quantity(text: str) -> Fraction:
    """The exact value of a quantity; ValueError if Kubernetes would refuse it."""
    match = _QUANTITY.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (such as 2, 500m, 8Gi or 1.5e3)")
    value = Fraction(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:])
    return value * Fraction(10) ** exponent
