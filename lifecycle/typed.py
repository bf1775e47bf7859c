"""Rebuild frozen dataclasses from saved JSON without trusting it."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any


def dataclass_from(cls, data: Any):
    """A dataclass from a saved dict, keeping only known fields of the right type and range.

    A class may declare `LIMITS = {field: (low, high)}` for numbers or `{field: (options...)}`
    for text: values outside are clamped or dropped, so a widget drawn from them cannot fail.
    """
    data, kept = data if isinstance(data, dict) else {}, {}
    limits = getattr(cls, "LIMITS", {})
    for f in fields(cls):
        default, value = getattr(cls(), f.name), data.get(f.name)
        numeric = isinstance(default, float) and isinstance(value, int)
        same_type = isinstance(value, type(default)) and (
            isinstance(default, bool) or not isinstance(value, bool)
        )
        if isinstance(default, tuple) and isinstance(value, list):
            kept[f.name] = tuple(str(v) for v in value)  # JSON has no tuples
        elif same_type or (numeric and not isinstance(value, bool)):
            try:
                fitted = _fit(float(value) if numeric else value, limits.get(f.name))
            except OverflowError:  # an integer too large for a float
                continue
            if fitted is not None:
                kept[f.name] = fitted
    return cls(**kept)


def _fit(value: Any, limit: tuple | None) -> Any:
    """The value within its limit: numbers clamped, other values kept only if listed."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if limit is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        low, high = limit
        return min(max(value, type(value)(low)), type(value)(high))
    return value if value in limit else None
