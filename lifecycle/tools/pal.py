"""Program-aided answers: the model writes one expression, the safe calculator computes it."""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from lifecycle.config import KNOWLEDGE
from lifecycle.models.generation import GenParams, Messages, generate
from lifecycle.models.protocol import ChatModel
from lifecycle.tools.calc import CalcError, evaluate, format_value
from lifecycle.tools.prompts import direct_messages, expression_grammar, expression_messages

QUESTIONS_FILE = KNOWLEDGE / "tools" / "questions.yaml"
KINDS = ("number", "date", "weekday")
# (chat messages, GBNF grammar or '' for free text) -> the model's reply text
Ask = Callable[[Messages, str], str]
EXPRESSION_TOKENS = 64  # the built-in questions need under 30; a reply cut short is refused
_EXPR_LINE = re.compile(r"EXPR\s*:\s*(.+)", re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z]*\n?(.*?)```", re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")
_ASSIGNED = re.compile(r"^\s*[A-Za-z_]\w*\s*=(?!=)")
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ToolAnswer:
    """The model's direct answer next to its expression and the calculator's value."""

    question: str
    direct: str  # the model's own answer text
    reply: str  # the model's reply when asked for an expression
    expression: str  # extracted from the reply ('' when none was found)
    value: str  # the calculator's result, formatted ('' on error)
    error: str = ""  # why no value: no expression, or the calculator refused it


def _clean(candidate: str) -> str:
    text = candidate.strip().strip("`").strip()
    text = re.sub(r"^(?:print|EXPR\s*:)\s*", "", text, flags=re.IGNORECASE).strip()
    if _ASSIGNED.match(text):  # 'x = 17 * 23' -> the right side
        text = text.split("=", 1)[1]
    elif "=" in text:  # '17 * 23 = 391' -> the left side
        text = text.split("=", 1)[0]
    return text.strip().rstrip(".").strip()


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        return False
    return bool(re.search(r"\d", text))


def _computes(text: str) -> bool:
    try:
        evaluate(text)
    except CalcError:
        return False
    return bool(re.search(r"\d", text))


def extract_expression(reply: str) -> str:
    """The expression in a reply: an 'EXPR:' line, a fenced or inline code, or a bare line."""
    line = _EXPR_LINE.search(reply or "")
    if line and _clean(line.group(1)):
        return _clean(line.group(1))  # what the model declared, even if the calculator refuses it
    fenced = [x for block in _FENCE.findall(reply or "") for x in block.splitlines()]
    candidates = fenced + _INLINE.findall(reply or "") + (reply or "").splitlines()
    cleaned = [text for text in map(_clean, candidates) if text]
    for text in cleaned:
        if _computes(text):
            return text
    # Well-formed but refused (a date that does not exist): the calculator's reason is shown.
    for text in cleaned:
        if _parses(text):
            return text
    raise CalcError("The reply has no expression the calculator can read.")


def model_asker(lm: ChatModel, params: GenParams) -> Ask:
    """An Ask backed by a loaded model: its lock, these settings, and the grammar if any."""

    def ask(messages: Messages, grammar: str = "") -> str:
        if not grammar:
            return generate(lm, messages, params).text
        # one line with room for any expression the grammar allows to end (its repeats are
        # bounded), whatever the direct answer's budget
        constrained = replace(
            params, grammar=grammar, max_new_tokens=EXPRESSION_TOKENS, stop=("\n",)
        )
        return generate(lm, messages, constrained).text

    return ask


def program_aided(question: str, ask: Ask) -> ToolAnswer:
    """Two calls: the direct answer, then an expression evaluated by the safe calculator."""
    direct = ask(direct_messages(question), "").strip()
    reply = ask(expression_messages(question), expression_grammar(question)).strip()
    try:
        expression = extract_expression(reply)
    except CalcError as err:
        return ToolAnswer(question, direct, reply, "", "", str(err))
    try:
        return ToolAnswer(question, direct, reply, expression, format_value(evaluate(expression)))
    except CalcError as err:
        return ToolAnswer(question, direct, reply, expression, "", str(err))


@dataclass(frozen=True)
class ToolQuestion:
    """A question with one exact answer: a number, an ISO date or a weekday."""

    id: str
    question: str
    answer: str
    kind: str = "number"  # number | date | weekday
    tolerance: float = 1e-6  # numbers: absolute difference still counted right
    expression: str = ""  # a reference expression that computes the answer


def load_questions(path: Path = QUESTIONS_FILE) -> list[ToolQuestion]:
    """The built-in question set."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        ToolQuestion(
            str(q["id"]),
            str(q["question"]),
            str(q["answer"]),
            str(q.get("kind", "number")),
            float(q.get("tolerance", 1e-6)),
            str(q.get("expr", "")),
        )
        for q in raw["questions"]
    ]


def parse_answer(text: str, kind: str) -> str | None:
    """The value in an answer text, normalised: last number, first ISO date, first weekday."""
    if kind == "number":
        numbers = _NUMBER.findall(text or "")
        return numbers[-1].replace(",", "") if numbers else None
    if kind == "date":
        found = _ISO.search(text or "")
        return f"{found[1]}-{int(found[2]):02d}-{int(found[3]):02d}" if found else None
    lowered = (text or "").lower()
    hits = [(lowered.find(d), d) for d in _WEEKDAYS if d in lowered]
    return min(hits)[1].capitalize() if hits else None


def is_correct(value: str | None, question: ToolQuestion) -> bool:
    """Numbers within the tolerance; dates and weekdays exactly."""
    if value is None:
        return False
    if question.kind != "number":
        return value.strip().casefold() == question.answer.strip().casefold()
    try:
        return math.isclose(float(value), float(question.answer), abs_tol=question.tolerance)
    except ValueError:
        return False


@dataclass(frozen=True)
class ToolRow:
    """One question scored both ways."""

    id: str
    question: str
    expected: str
    direct: str
    direct_value: str | None
    direct_ok: bool
    expression: str
    tool_value: str
    tool_ok: bool
    error: str = ""
    reply: str = ""  # the model's raw reply when asked for an expression


@dataclass(frozen=True)
class ToolScore:
    """Accuracy of direct answers against tool-assisted ones, with every row."""

    rows: tuple[ToolRow, ...]

    @property
    def direct_accuracy(self) -> float:
        """Share of questions the model answered right by itself."""
        return sum(r.direct_ok for r in self.rows) / len(self.rows) if self.rows else 0.0

    @property
    def tool_accuracy(self) -> float:
        """Share answered right through the calculator."""
        return sum(r.tool_ok for r in self.rows) / len(self.rows) if self.rows else 0.0


def score_row(q: ToolQuestion, answer: ToolAnswer) -> ToolRow:
    """Compare both answers of one question with its expected value."""
    direct_value = parse_answer(answer.direct, q.kind)
    tool_value = parse_answer(answer.value, q.kind) if answer.value else None
    return ToolRow(
        q.id,
        q.question,
        q.answer,
        answer.direct,
        direct_value,
        is_correct(direct_value, q),
        answer.expression,
        answer.value,
        is_correct(tool_value, q),
        answer.error,
        answer.reply,
    )


def score_tools(
    ask: Ask,
    questions: list[ToolQuestion] | None = None,
    on_step: Callable[[int, int], None] = lambda done, total: None,
) -> ToolScore:
    """Ask every question both ways (two calls each) and score them."""
    questions = load_questions() if questions is None else questions
    rows = []
    for done, q in enumerate(questions, start=1):
        rows.append(score_row(q, program_aided(q.question, ask)))
        on_step(done, len(questions))
    return ToolScore(tuple(rows))
