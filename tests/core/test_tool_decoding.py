"""The calculator tool on a small model: worked examples, a grammar, dates as written."""

from __future__ import annotations

from datetime import date

import pytest

from lifecycle.models import GenParams, load_model
from lifecycle.models.constraints import charset_processor, grammar_chars
from lifecycle.tools.calc import CalcError, evaluate
from lifecycle.tools.pal import EXPRESSION_TOKENS, load_questions, model_asker, program_aided
from lifecycle.tools.prompts import (
    CONSTANTS,
    EXPRESSION_GRAMMAR,
    direct_messages,
    expression_grammar,
    expression_messages,
    load_examples,
    plain_numbers,
    question_numbers,
)
from tests.fake_model import install


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("weekday(date(4, July, 2026))", "Saturday"),
        ("days(date(15, January, 2026), date(1, March, 2026))", 45),
        ("90 + date(15, January, 2026)", date(2026, 4, 15)),
        ("date(1, October, 2026) - 100", date(2026, 6, 23)),
        ("date(2026, 1, 15) + 90", date(2026, 4, 15)),  # year first still works
    ],
)
def test_dates_can_be_written_as_the_question_writes_them(expression, expected):
    assert evaluate(expression) == expected


@pytest.mark.parametrize("expression", ["date(15, 1, 26)", "date(July, 4, 2026.5)", "Monday"])
def test_dates_without_a_full_year_and_other_names_are_refused(expression):
    with pytest.raises(CalcError):
        evaluate(expression)


def test_worked_examples_compute_and_are_not_the_questions_asked():
    examples = load_examples()
    asked = {q.question for q in load_questions()}
    assert len(examples) >= 10
    for example in examples:
        assert example.question not in asked
        assert example.value  # computed by the calculator, never typed
    numbers = {q.question: q for q in load_questions()}
    assert not asked & {e.question for e in examples}, numbers


def test_both_prompts_show_the_same_examples_and_no_answer_of_the_set():
    question = "What is 1,234 multiplied by 56?"
    direct, expression = direct_messages(question), expression_messages(question)
    assert [m["content"] for m in direct if m["role"] == "user"] == [
        m["content"] for m in expression if m["role"] == "user"
    ]
    assert direct[-1]["content"] == "What is 1234 multiplied by 56?"
    shown = " ".join(m["content"] for m in expression)
    assert "69104" not in shown and "1234 * 56" not in shown
    assert plain_numbers("12,345 and 1,5") == "12345 and 1,5"


def test_the_grammar_covers_every_reference_expression():
    chars = grammar_chars(EXPRESSION_GRAMMAR)
    for q in load_questions():
        written = q.expression.replace("date(2026, 3, 1)", "date(1, March, 2026)")
        assert set(written) <= chars, q.id
    assert "\n" not in chars and "=" not in chars and "'" not in chars
    assert grammar_chars('root ::= [^"]') is None  # "anything but" keeps nothing


def test_the_tool_asks_with_the_grammar_and_shows_the_raw_reply():
    fake = install().enqueue("It is 381.", "17 * 23")
    answer = program_aided("What is 17 times 23?", model_asker(fake, GenParams(max_new_tokens=64)))
    assert (answer.direct, answer.reply, answer.expression, answer.value) == (
        "It is 381.",
        "17 * 23",
        "17 * 23",
        "391",
    )
    direct_params, tool_params = fake.params
    assert direct_params.grammar == ""
    assert tool_params.grammar == expression_grammar("What is 17 times 23?")
    assert tool_params.stop == ("\n",) and tool_params.max_new_tokens == EXPRESSION_TOKENS


def test_transformers_decoding_keeps_to_the_grammars_characters(tiny_causal):
    lm = load_model(str(tiny_causal))
    keep = charset_processor(lm.tokenizer, EXPRESSION_GRAMMAR, lm.model.config.vocab_size)
    assert keep is not None
    messages = expression_messages("What is 17 times 23?")[-3:]
    free = lm.generate(messages, GenParams(max_new_tokens=12))
    bound = lm.generate(messages, GenParams(max_new_tokens=12, grammar=EXPRESSION_GRAMMAR))
    allowed = grammar_chars(EXPRESSION_GRAMMAR)
    assert set(bound.text) <= allowed
    assert not set(free.text) <= allowed  # the tiny model writes anything when unconstrained


@pytest.mark.llama
def test_the_grammar_is_one_llama_cpp_reads(llama_installed):
    from llama_cpp import LlamaGrammar

    assert LlamaGrammar.from_string(EXPRESSION_GRAMMAR, verbose=False) is not None


def test_the_grammar_gives_each_function_its_number_of_arguments():
    assert '"days(" expr (", " expr){1,1} ")"' in EXPRESSION_GRAMMAR
    assert '"weekday(" expr ")"' in EXPRESSION_GRAMMAR
    with pytest.raises(CalcError, match=r"Call it as days\(date"):
        evaluate("days(date(4, July, 2026))")


@pytest.mark.llama
def test_the_embedded_model_writes_an_expression_under_the_grammar(llama_installed):
    """0 of 5 questions gave an expression before. Now the reply is the grammar's, as raw
    llama.cpp writes it with the same grammar on this machine, and a plain one computes."""
    from llama_cpp import LlamaGrammar

    from lifecycle.serving.llamacpp import load_llamacpp

    lm = load_llamacpp()
    ask = model_asker(lm, GenParams(max_new_tokens=32))
    answer = program_aided("What is 17 times 23?", ask)
    assert (answer.reply, answer.expression, answer.value) == ("17 * 23", "17 * 23", "391")
    question = "Which day of the week is 4 July 2026?"
    ours = ask(expression_messages(question), expression_grammar(question))
    lm.llm.reset()
    raw = lm.llm.create_completion(
        lm.encode(expression_messages(question)),
        max_tokens=EXPRESSION_TOKENS,
        temperature=0.0,
        top_k=1,
        top_p=1.0,
        repeat_penalty=1.0,
        seed=0,
        stop=[*lm.template_stops, "\n"],
        grammar=LlamaGrammar.from_string(expression_grammar(question), verbose=False),
    )
    assert ours == raw["choices"][0]["text"]
    assert set(ours) <= grammar_chars(EXPRESSION_GRAMMAR)


def _chains(node, found):
    """Longest runs of + - and of * / // % ** at one level of an expression's tree."""
    import ast

    groups = ((ast.Add, ast.Sub), (ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow))
    if isinstance(node, ast.BinOp):
        group = next(g for g in groups if isinstance(node.op, g))
        ops, left = 1, node.left
        while isinstance(left, ast.BinOp) and isinstance(left.op, group):
            ops, left = ops + 1, left.left
        found.append((group[0].__name__, ops))
    for child in ast.iter_child_nodes(node):
        _chains(child, found)
    return found


def test_the_grammars_bounds_admit_every_worked_example_and_reference():
    import ast

    written = [e.expression for e in load_examples()] + [q.expression for q in load_questions()]
    for expression in written:
        chains = _chains(ast.parse(expression, mode="eval").body, [])
        assert all(n <= (3 if kind == "Add" else 2) for kind, n in chains), expression
        numbers = [n for n in ast.walk(ast.parse(expression)) if isinstance(n, ast.Constant)]
        assert all(len(str(n.value).split(".")[0]) <= 9 for n in numbers), expression
    assert "term ::= factor" in EXPRESSION_GRAMMAR and "){0,2}" in EXPRESSION_GRAMMAR


def _numbers(expression: str) -> set[str]:
    import ast

    tree = ast.parse(expression, mode="eval")
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}


def test_a_questions_grammar_offers_its_own_numbers_and_the_constants_only():
    question = "A GPU costs $2.40 per hour. What does it cost to run it for 3 days?"
    assert question_numbers(question) == ["2.40", "3"]
    grammar = expression_grammar(question)
    assert '"2.40"' in grammar and '"24"' in grammar and '"2400"' not in grammar
    assert "[0-9]" not in grammar.split("number ::=")[1]  # no number of the model's own
    written = [(e.question, e.expression) for e in load_examples()]
    written += [(q.question, q.expression) for q in load_questions()]
    for asked, expression in written:  # every reference and worked example can be written
        allowed = {float(n) for n in (*question_numbers(asked), *CONSTANTS)}
        assert {float(n) for n in _numbers(expression)} <= allowed, (asked, expression)
