"""Metrics as text, the same in progress lines, evaluation lines and final results."""

import math


def format_value(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.4f}"
    return f"{value:.4g}"  # Small learning rates and large counts keep their digits.


def format_metrics(results: dict[str, float], separator: str = ", ") -> str:
    """`loss 0.1234, accuracy 0.9750`."""
    return separator.join(f"{name} {format_value(value)}" for name, value in results.items())
