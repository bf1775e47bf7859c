"""Stage 7, tools: a safe calculator and program-aided answers (the model writes, Python runs)."""

from lifecycle.tools.calc import CalcError, evaluate, format_value
from lifecycle.tools.pal import (
    ToolAnswer,
    ToolQuestion,
    ToolScore,
    extract_expression,
    load_questions,
    model_asker,
    program_aided,
    score_tools,
)

__all__ = [
    "CalcError",
    "ToolAnswer",
    "ToolQuestion",
    "ToolScore",
    "evaluate",
    "extract_expression",
    "format_value",
    "load_questions",
    "model_asker",
    "program_aided",
    "score_tools",
]
