"""The safe calculator, expression extraction and the direct-vs-tool scorer."""

from datetime import date

import pytest

from lifecycle.tools import (
    CalcError,
    evaluate,
    extract_expression,
    format_value,
    load_questions,
    program_aided,
    score_tools,
)
from lifecycle.tools.calc import MAX_EXPRESSION_CHARS
from lifecycle.tools.pal import ToolQuestion, is_correct, parse_answer


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("17 * 23", 391),
        ("-(2 + 3) ** 2", -25),
        ("7 / 8 * 100", 87.5),
        ("99999 // 7", 14285),
        ("123456 % 97", 72),
        ("round(1000 * 1.05 ** 10, 2)", 1628.89),
        ("max(3, abs(-7), min(10, 9))", 9),
        ("sqrt(1764)", 42.0),
        ("2 ** -2", 0.25),
        ("date(2026, 3, 1) - date(2026, 1, 15)", 45),
        ("days(date(2026, 1, 15), date(2026, 3, 1))", 45),
        ("date(2026, 1, 15) + 90", date(2026, 4, 15)),
        ("10 + date(2026, 1, 1)", date(2026, 1, 11)),
        ("date(2026, 10, 1) - 100", date(2026, 6, 23)),
        ("weekday(date(2026, 7, 4))", "Saturday"),
        ("2 ** 3000 // 2 ** 2999", 2),
    ],
)
def test_correct_results(expression, expected):
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "Only these functions"),
        ("().__class__", "not allowed"),
        ("a.b", "not allowed"),
        ("9**9**9", "digits"),
        ("10**100000", "digits"),
        ("2.0 ** 5000", "digits"),
        ("2**3000 * 2**400", "digits"),
        ("(-8) ** 0.5", "real number"),
        ("lambda: 1", "not allowed"),
        ("[x for x in (1, 2)]", "not allowed"),
        ("{1: 2}", "not allowed"),
        ("os", "Unknown name"),
        ("'text' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("1 if 2 else 3", "not allowed"),
        ("1 < 2", "not allowed"),
        ("x := 3", "Not a valid expression"),
        ("1 / 0", "Division by zero"),
        ("round(2.5, ndigits=1)", "plain arguments"),
        ("date(2026, 2, 30)", "Not a date"),
        ("date(2026, 1, 1) * 2", "Dates"),
        ("date(2026, 1, 1) + 10**7", "too large"),
        ("sqrt(-1)", "negative"),
        ("1 << 2", "not allowed"),
        ("", "empty"),
        ("1+" * 100 + "1", "longer than"),
        ("+".join(["1"] * 60), "parts"),
        ("(" * 150 + "1" + ")" * 150, "longer than"),
    ],
)
def test_hostile_or_invalid_inputs_are_refused(expression, message):
    with pytest.raises(CalcError, match=message):
        evaluate(expression)


def test_length_bound_is_the_documented_one():
    assert len("+".join(["1"] * 60)) < MAX_EXPRESSION_CHARS
    with pytest.raises(CalcError):
        evaluate("1" * (MAX_EXPRESSION_CHARS + 1))


def test_values_are_formatted_as_answers():
    assert format_value(14.000000000000002) == "14"
    assert format_value(3.5 * 4.2) == "14.7"
    assert format_value(date(2026, 4, 15)) == "2026-04-15"
    assert format_value(1 / 3) == "0.3333333333"


@pytest.mark.parametrize(
    ("reply", "expression"),
    [
        ("EXPR: 17 * 23", "17 * 23"),
        (
            "Sure.\nexpr:  date(2026, 3, 1) - date(2026, 1, 15).",
            "date(2026, 3, 1) - date(2026, 1, 15)",
        ),
        ("```python\nresult = 250 * 12 / 100\n```", "250 * 12 / 100"),
        ("Use `2 ** 20` for this.", "2 ** 20"),
        ("The answer:\n17 * 23 = 391", "17 * 23"),
        ("```\nprint(365 * 24 * 60)\n```", "(365 * 24 * 60)"),
    ],
)
def test_expressions_are_extracted_from_replies(reply, expression):
    assert extract_expression(reply) == expression


def test_a_reply_without_an_expression_is_reported():
    with pytest.raises(CalcError, match="no expression"):
        extract_expression("I think it is about three hundred.")


def test_a_well_formed_expression_the_calculator_refuses_is_still_shown():
    assert extract_expression("date(31, February, 2026) + 1") == "date(31, February, 2026) + 1"


def test_answers_are_parsed_by_kind():
    assert parse_answer("17 * 23 = 391.", "number") == "391"
    assert parse_answer("It is 1,048,576 bytes", "number") == "1048576"
    assert parse_answer("on 2026-4-15, I think", "date") == "2026-04-15"
    assert parse_answer("It was a saturday, not a Monday", "weekday") == "Saturday"
    assert parse_answer("no idea", "number") is None
    q = ToolQuestion("x", "?", "1628.89", tolerance=0.005)
    assert is_correct("1628.893", q) and not is_correct("1629", q) and not is_correct(None, q)


def test_every_shipped_question_is_answered_by_its_reference_expression():
    questions = load_questions()
    assert len(questions) >= 20 and len({q.id for q in questions}) == len(questions)
    for q in questions:
        assert q.kind in ("number", "date", "weekday")
        value = format_value(evaluate(q.expression))
        assert is_correct(parse_answer(value, q.kind), q), q.id


def canned(direct: str, expression_reply: str):
    """A test double for the model: a fixed reply per kind of prompt (the grammar tells)."""

    def ask(messages, grammar=""):
        return expression_reply if grammar else direct

    return ask


def test_program_aided_answer_keeps_both_sides():
    answer = program_aided("What is 17 times 23?", canned("It is 381.", "EXPR: 17 * 23"))
    assert (answer.direct, answer.expression, answer.value, answer.error) == (
        "It is 381.",
        "17 * 23",
        "391",
        "",
    )
    refused = program_aided("?", canned("1", "EXPR: __import__('os')"))
    assert refused.value == "" and "Only these functions" in refused.error


def test_scorer_counts_direct_and_tool_accuracy():
    questions = [
        ToolQuestion("a", "What is 17 times 23?", "391"),
        ToolQuestion("b", "Weekday of 2026-07-04?", "Saturday", "weekday"),
        ToolQuestion("c", "90 days after 2026-01-15?", "2026-04-15", "date"),
        ToolQuestion("d", "What is 2 to the 20?", "1048576"),
    ]
    replies = {
        "a": ("391", "EXPR: 17 * 23"),  # both right
        "b": ("Friday", "EXPR: weekday(date(2026, 7, 4))"),  # tool right
        "c": ("2026-04-15", "EXPR: date(2026, 1, 15) + 91"),  # direct right
        "d": ("a million", "no idea"),  # both wrong
    }

    def ask(messages, grammar=""):
        q = next(q for q in questions if q.question in messages[-1]["content"])
        direct, expr = replies[q.id]
        return expr if grammar else direct

    steps = []
    score = score_tools(ask, questions, on_step=lambda d, t: steps.append((d, t)))
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [(r.direct_ok, r.tool_ok) for r in score.rows] == [
        (True, True),
        (False, True),
        (True, False),
        (False, False),
    ]
    assert score.direct_accuracy == 0.5 and score.tool_accuracy == 0.5
    assert score.rows[3].error and score.rows[2].tool_value == "2026-04-16"
