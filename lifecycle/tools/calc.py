"""A safe calculator for model-written expressions: arithmetic and date arithmetic, nothing else.

Allowed: numbers, + - * / // % ** (unary - and +), parentheses, and these functions:
round(x[, n]), abs(x), min(...), max(...), sqrt(x), floor(x), ceil(x),
date(year, month, day) or date(day, month, year) (the four-digit year tells which),
days(a, b) (days from date a to date b), weekday(d) (e.g. 'Monday').
Month names stand for their numbers (January = 1), so "4 July 2026" is date(4, July, 2026):
a small model copies a date as written more reliably than it reorders it.
Dates: date - date gives days; date + n and date - n give a date.
No other names, attributes, strings, comprehensions or lambdas; sizes and time are bounded.
"""

from __future__ import annotations

import ast
import math
import operator
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

MAX_EXPRESSION_CHARS = 200
MAX_NODES = 100  # a question's arithmetic is a few dozen nodes
MAX_DIGITS = 1000  # bigger integers are no answer anyone reads, and get slow to build
MAX_SECONDS = 0.5
_MAX_BITS = int(MAX_DIGITS * math.log2(10)) + 1
_NUMBER = (int, float)


class CalcError(ValueError):
    """An expression the calculator refuses or cannot compute; the message says why."""


MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        start=1,
    )
}


def _date(first: Any, month: Any, last: Any) -> date:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (first, month, last)):
        raise CalcError("date() takes whole numbers: date(2026, 3, 1) or date(1, March, 2026).")
    if first > 31 >= last:
        year, day = first, last
    elif last > 31 >= first:
        year, day = last, first
    else:
        raise CalcError("date() needs the year in full: date(2026, 3, 1) or date(1, March, 2026).")
    try:
        return date(year, month, day)
    except ValueError as err:
        raise CalcError(f"Not a date: {err}.") from err


def _days(a: Any, b: Any) -> int:
    if not (isinstance(a, date) and isinstance(b, date)):
        raise CalcError("days() takes two dates: days(date(2026, 1, 15), date(2026, 3, 1)).")
    return (b - a).days


def _weekday(d: Any) -> str:
    if not isinstance(d, date):
        raise CalcError("weekday() takes a date: weekday(date(2026, 7, 4)).")
    return d.strftime("%A")


def _sqrt(x: Any) -> float:
    if x < 0:
        raise CalcError("sqrt() of a negative number is not a real number.")
    return math.sqrt(x)


def _round(x: Any, n: Any = None) -> Any:
    if n is not None and (not isinstance(n, int) or not -20 <= n <= 20):
        raise CalcError("round() takes a whole number of digits between -20 and 20.")
    return round(x) if n is None else round(x, n)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "round": _round,
    "abs": abs,
    "min": min,
    "max": max,
    "sqrt": _sqrt,
    "floor": math.floor,
    "ceil": math.ceil,
    "date": _date,
    "days": _days,
    "weekday": _weekday,
}
USAGE = {
    "round": "round(x) or round(x, digits)",
    "abs": "abs(x)",
    "min": "min(a, b, ...)",
    "max": "max(a, b, ...)",
    "sqrt": "sqrt(x)",
    "floor": "floor(x)",
    "ceil": "ceil(x)",
    "date": "date(2026, 3, 1) or date(1, March, 2026)",
    "days": "days(date(...), date(...)): the days from the first date to the second",
    "weekday": "weekday(date(...))",
}
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _check_pow(base: Any, exponent: Any) -> None:
    """Refuse powers whose result would be astronomically large (before computing them)."""
    if not isinstance(base, _NUMBER) or not isinstance(exponent, _NUMBER):
        raise CalcError("** works on numbers only.")
    if abs(base) > 1 and exponent > 0:
        if exponent * math.log10(abs(base)) > MAX_DIGITS:
            raise CalcError(f"That power has more than {MAX_DIGITS:,} digits.")


def _binary(op: ast.operator, left: Any, right: Any) -> Any:
    kind = type(op)
    if kind not in _BINARY:
        raise CalcError(f"The operator {type(op).__name__} is not allowed.")
    if kind is ast.Pow:
        _check_pow(left, right)
    if kind is ast.Mult and all(isinstance(v, int) for v in (left, right)):
        if left.bit_length() + right.bit_length() > _MAX_BITS + 1:
            raise CalcError(f"That product has more than {MAX_DIGITS:,} digits.")
    if isinstance(left, date) or isinstance(right, date):
        return _date_arithmetic(kind, left, right)
    if not isinstance(left, _NUMBER) or not isinstance(right, _NUMBER):
        raise CalcError("Arithmetic works on numbers and dates only.")
    return _BINARY[kind](left, right)


def _date_arithmetic(kind: type, left: Any, right: Any) -> Any:
    if kind is ast.Sub and isinstance(left, date) and isinstance(right, date):
        return (left - right).days
    if kind in (ast.Add, ast.Sub) and isinstance(left, date) and isinstance(right, int):
        return left + timedelta(days=right if kind is ast.Add else -right)
    if kind is ast.Add and isinstance(left, int) and isinstance(right, date):
        return right + timedelta(days=left)
    raise CalcError("Dates: date - date gives days; date + n or date - n (whole days) a date.")


class _Evaluator:
    """Walks the tree, allowing only the nodes listed above, within the time bound."""

    def __init__(self) -> None:
        self.deadline = time.perf_counter() + MAX_SECONDS

    def visit(self, node: ast.AST) -> Any:
        if time.perf_counter() > self.deadline:
            raise CalcError(f"The expression took longer than {MAX_SECONDS} s.")
        if isinstance(node, ast.Expression):
            return self.visit(node.body)
        if isinstance(node, ast.Constant):
            return _constant(node.value)
        if isinstance(node, ast.BinOp):
            return _checked(_binary(node.op, self.visit(node.left), self.visit(node.right)))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            value = self.visit(node.operand)
            if not isinstance(value, _NUMBER):
                raise CalcError("A sign (- or +) goes before a number only.")
            return _UNARY[type(node.op)](value)
        if isinstance(node, ast.Call):
            return _checked(self.call(node))
        if isinstance(node, ast.Name):
            if node.id in MONTHS:
                return MONTHS[node.id]
            raise CalcError(f"Unknown name {node.id!r}: use numbers and {_function_list()}.")
        raise CalcError(f"{type(node).__name__} is not allowed in an expression.")

    def call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise CalcError(f"Only these functions are allowed: {_function_list()}.")
        if node.keywords:
            raise CalcError("Functions take plain arguments here, not name=value.")
        args = [self.visit(a) for a in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except CalcError:
            raise
        except TypeError as err:
            if "argument" in str(err):  # e.g. days() with one date: say how to call it
                raise CalcError(f"Call it as {USAGE[node.func.id]}.") from err
            raise CalcError(f"{node.func.id}(): {err}.") from err
        except (ValueError, OverflowError) as err:
            raise CalcError(f"{node.func.id}(): {err}.") from err


def _function_list() -> str:
    return ", ".join(FUNCTIONS)


def _constant(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        raise CalcError("Only numbers are allowed as values (no text, True/False or None).")
    return value


def _checked(value: Any) -> Any:
    if not isinstance(value, int | float | date | str):  # e.g. (-8) ** 0.5 is complex
        raise CalcError("The result is not a real number or a date.")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_BITS:
        raise CalcError(f"The result has more than {MAX_DIGITS:,} digits.")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalcError("The result is not a finite number.")
    return value


def evaluate(expression: str) -> Any:
    """The value of a safe expression (int, float, date or weekday name); CalcError otherwise."""
    text = (expression or "").strip()
    if not text:
        raise CalcError("The expression is empty.")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalcError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise CalcError(f"Not a valid expression: {err.msg}.") from err
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError(f"The expression has more than {MAX_NODES} parts.")
    try:
        return _Evaluator().visit(tree)
    except ZeroDivisionError as err:
        raise CalcError("Division by zero.") from err
    except OverflowError as err:
        raise CalcError("The result is too large.") from err
    except RecursionError as err:
        raise CalcError("The expression is nested too deeply.") from err


def format_value(value: Any) -> str:
    """A value as an answer: dates in ISO form, whole floats without '.0', 10 significant digits."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    return str(value)
