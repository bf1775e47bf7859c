"""The tools prompts: worked examples both ways, and the grammar an expression must follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from lifecycle.config import KNOWLEDGE
from lifecycle.models.protocol import Messages
from lifecycle.tools.calc import FUNCTIONS, MONTHS, evaluate, format_value

EXAMPLES_FILE = KNOWLEDGE / "tools" / "examples.yaml"
DIRECT_SYSTEM = (
    "Answer the question with the final value only: a number, a date as YYYY-MM-DD, "
    "or a weekday name."
)
EXPRESSION_SYSTEM = (
    "Write one calculator expression whose value answers the question, and nothing else. "
    "Use + - * / // % ** and ( ), round, sqrt, date(day, Month, year), days(from, to) and "
    "weekday(date); date + n and date - n give a date."
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
# GBNF (llama.cpp's grammar format): a reply can only be an expression the calculator reads,
# each function with its own number of arguments, with bounded repeats and number lengths, so a
# small model can neither ramble, loop ("7 / 8 * 100 % 7 ..."), nor call days() with one date.
# Longer arithmetic nests: (a + b + c) + (d + e).
_ARGS = ", "
_CALLS: dict[str, int | tuple[int, int]] = {
    "date": 3,
    "days": 2,
    "weekday": 1,
    "round": (1, 2),
    "sqrt": 1,
    "abs": 1,
    "floor": 1,
    "ceil": 1,
    "min": (2, 4),
    "max": (2, 4),
}


def _call_rule(name: str, arity: int | tuple[int, int]) -> str:
    low, high = (arity, arity) if isinstance(arity, int) else arity
    more = f' ("{_ARGS}" expr){{{low - 1},{high - 1}}}' if high > 1 else ""
    return f'"{name}(" expr{more} ")"'


_MONTH_NAMES = " | ".join(f'"{m}"' for m in MONTHS)
_ANY_NUMBER = '[0-9]{1,9} ("." [0-9]{1,6})?'
_RULES = (
    "root ::= expr\n"
    'expr ::= term (" " [-+] " " term){0,3}\n'
    'term ::= factor (" " ("**" | "//" | [*/%]) " " factor){0,2}\n'
    'factor ::= "-"? (number | month | call | "(" expr ")")\n'
    f"call ::= {' | '.join(_call_rule(n, a) for n, a in _CALLS.items())}\n"
    f"month ::= {_MONTH_NAMES}\n"
)
EXPRESSION_GRAMMAR = _RULES + f"number ::= {_ANY_NUMBER}\n"  # any number (no question known)
assert set(_CALLS) == set(FUNCTIONS)  # a function added to the calculator needs its arity here
# Numbers an expression may use besides the question's own: small counts and unit factors
# (hours a day, minutes an hour, days a week or year, percent, grams a kilo...).
CONSTANTS = (*map(str, range(13)), "24", "52", "60", "100", "365", "1000", "3600")
_QUESTION_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def question_numbers(question: str) -> list[str]:
    """The numbers written in a question (thousands separators dropped), as written."""
    return list(dict.fromkeys(_QUESTION_NUMBER.findall(plain_numbers(question))))


def expression_grammar(question: str) -> str:
    """The grammar for this question: its own numbers and the constants, nothing invented.

    A 135M model pads a right answer with numbers of its own ("7 / 8 * 100000000"); copying a
    number from the question is what it does well.
    """
    numbers = dict.fromkeys([*question_numbers(question), *CONSTANTS])
    return _RULES + "number ::= " + " | ".join(f'"{n}"' for n in numbers) + "\n"


@dataclass(frozen=True)
class WorkedExample:
    """A worked question: its expression, and the value that expression computes."""

    question: str
    expression: str

    @property
    def value(self) -> str:
        """The answer, computed (never typed by hand)."""
        return format_value(evaluate(self.expression))


@lru_cache(maxsize=4)
def load_examples(path: Path = EXAMPLES_FILE) -> tuple[WorkedExample, ...]:
    """The worked examples shown before each question."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(WorkedExample(str(e["question"]), str(e["expr"])) for e in raw["examples"])


def plain_numbers(question: str) -> str:
    """The question with thousands separators dropped ("1,234" is 1234, not "1, 234")."""
    return _THOUSANDS.sub("", question)


def _few_shot(system: str, question: str, answers: list[tuple[str, str]]) -> Messages:
    messages = [{"role": "system", "content": system}]
    for asked, answered in answers:
        messages += [{"role": "user", "content": asked}, {"role": "assistant", "content": answered}]
    return [*messages, {"role": "user", "content": plain_numbers(question)}]


def direct_messages(question: str) -> Messages:
    """Ask for the answer itself, after the worked examples with their values."""
    shots = [(e.question, e.value) for e in load_examples()]
    return _few_shot(DIRECT_SYSTEM, question, shots)


def expression_messages(question: str) -> Messages:
    """Ask for one expression, after the same examples with their expressions."""
    shots = [(e.question, e.expression) for e in load_examples()]
    return _few_shot(EXPRESSION_SYSTEM, question, shots)
