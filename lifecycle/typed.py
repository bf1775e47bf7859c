"""Rebuild frozen dataclasses from saved JSON without trusting it."""

from __future__ import annotations

from dataclasses import fields


def dataclass_from(cls, data: dict | None):
    """A dataclass from a saved dict, keeping only known fields of the right type."""
    data, kept = data or {}, {}
    for f in fields(cls):
        default, value = getattr(cls(), f.name), data.get(f.name)
        numeric = isinstance(default, float) and isinstance(value, int)
        same_type = isinstance(value, type(default)) and (
            isinstance(default, bool) or not isinstance(value, bool)
        )
        if isinstance(default, tuple) and isinstance(value, list):
            kept[f.name] = tuple(str(v) for v in value)  # JSON has no tuples
        elif same_type or (numeric and not isinstance(value, bool)):
            kept[f.name] = type(default)(value)
    return cls(**kept)
