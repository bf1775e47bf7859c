"""A small vocabulary of JSON shapes, so saved records can be checked before they are trusted."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

MAX_DEPTH = 40  # records nest a few levels; deeper JSON is a hand-made file


class Shape:
    """A JSON shape: `problem` says what is wrong with a value, or None when it fits."""

    what = "a value"

    def problem(self, value: Any, path: str) -> str | None:
        """The first mismatch, as 'path: expected ..., got ...'."""
        return None


def kind_of(value: Any) -> str:
    """How a JSON value is named in messages."""
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    names.update({list: "a list", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _wrong(path: str, shape: Shape, value: Any) -> str:
    return f"{path} should be {shape.what}, not {kind_of(value)}"


class Text(Shape):
    """A string, optionally one of a fixed set (given directly or by a function read late)."""

    what = "text"

    def __init__(self, choices: Iterable[str] | Callable[[], Iterable[str]] | None = None):
        self._choices = choices

    def problem(self, value: Any, path: str) -> str | None:
        """Wrong type, or not among the choices."""
        if not isinstance(value, str):
            return _wrong(path, self, value)
        choices = self._choices() if callable(self._choices) else self._choices
        if choices is not None and value not in set(choices):
            return f"{path} is {value[:60]!r}, which is not one of the known values"
        return None


class Num(Shape):
    """A finite number (integers only when `whole`), optionally within [low, high]."""

    def __init__(self, low: float = -math.inf, high: float = math.inf, whole: bool = False):
        self.low, self.high, self.whole = low, high, whole
        self.what = "a whole number" if whole else "a number"

    def problem(self, value: Any, path: str) -> str | None:
        """Wrong type, not finite, or out of range."""
        types = (int,) if self.whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, types):
            return _wrong(path, self, value)
        if isinstance(value, float) and not math.isfinite(value):
            return f"{path} should be a finite number"
        if not self.low <= value <= self.high:
            return f"{path} is {value}, outside {self.low:g}-{self.high:g}"
        return None


def Int(low: float = -math.inf, high: float = math.inf) -> Num:  # noqa: N802 (reads as a type)
    """A whole number within [low, high]."""
    return Num(low, high, whole=True)


class Bool(Shape):
    """true or false."""

    what = "true or false"

    def problem(self, value: Any, path: str) -> str | None:
        """Wrong type."""
        return None if isinstance(value, bool) else _wrong(path, self, value)


class Opt(Shape):
    """A shape, or null."""

    def __init__(self, inner: Shape):
        self.inner = inner
        self.what = f"{inner.what} or null"

    def problem(self, value: Any, path: str) -> str | None:
        """None fits; anything else must fit the inner shape."""
        return None if value is None else self.inner.problem(value, path)


class ListOf(Shape):
    """A list whose items all fit one shape."""

    what = "a list"

    def __init__(self, item: Shape):
        self.item = item

    def problem(self, value: Any, path: str) -> str | None:
        """Not a list, or the first item that does not fit."""
        if not isinstance(value, list):
            return _wrong(path, self, value)
        for i, item in enumerate(value):
            found = self.item.problem(item, f"{path}[{i}]")
            if found:
                return found
        return None


class MapOf(Shape):
    """An object whose values all fit one shape (any keys)."""

    what = "an object"

    def __init__(self, value: Shape):
        self.value = value

    def problem(self, value: Any, path: str) -> str | None:
        """Not an object, or the first value that does not fit."""
        if not isinstance(value, dict):
            return _wrong(path, self, value)
        for key, item in value.items():
            found = self.value.problem(item, f"{path}.{key}")
            if found:
                return found
        return None


class Obj(Shape):
    """An object with required and optional fields; other fields are allowed and ignored."""

    what = "an object"

    def __init__(self, required: dict[str, Shape] | None = None, **optional: Shape):
        self.required, self.optional = required or {}, optional

    def problem(self, value: Any, path: str) -> str | None:
        """Not an object, a missing required field, or the first field that does not fit."""
        if not isinstance(value, dict):
            return _wrong(path, self, value)
        for name in self.required:
            if name not in value:
                return f"{path} has no {name}"
        for name, shape in {**self.required, **self.optional}.items():
            found = shape.problem(value[name], f"{path}.{name}") if name in value else None
            if found:
                return found
        return None


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when lists and objects nest deeper than `limit` (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False
