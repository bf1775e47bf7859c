"""Tools: the embedded model's accuracy on the built-in questions, answering directly vs with
the calculator (it writes one expression, constrained by the grammar; the calculator computes).

Prints one line per question (both answers, the raw expression, right or wrong) and the two
accuracies with their paired difference. Both prompts show the same worked examples
(knowledge/tools/examples.yaml), so the gain is the tool's, not the examples'.
Run: .venv/bin/python -m bench.tools [llamacpp:embedded | embedded | another ref] [--free]
  --free: the expression without the grammar (to see what the constraint adds)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("LIFECYCLE_HOME", tempfile.mkdtemp(prefix="bench-tools-"))

from lifecycle.evaluation.stats import paired_bootstrap
from lifecycle.models import EMBEDDED, GenParams, load_model
from lifecycle.serving.llamacpp import llama_available, load_llamacpp
from lifecycle.tools.pal import ToolScore, load_questions, model_asker, program_aided, score_row

PARAMS = GenParams(max_new_tokens=32)  # greedy: a run repeats exactly on one machine


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ref = args[0] if args else ("llamacpp:embedded" if llama_available() else EMBEDDED)
    lm = load_llamacpp() if ref == "llamacpp:embedded" else load_model(ref)
    model_ask = model_asker(lm, PARAMS)

    def ask(messages, grammar=""):
        return model_ask(messages, "" if "--free" in sys.argv else grammar) or " "

    questions = load_questions()
    print(f"{lm.name} · {lm.runtime} · {len(questions)} questions", flush=True)
    begin, rows = time.perf_counter(), []
    for q in questions:
        row = score_row(q, program_aided(q.question, ask))
        rows.append(row)
        print(
            f"{row.id:10} direct {'ok ' if row.direct_ok else 'bad'} {row.direct[:30]!r:34} "
            f"tool {'ok ' if row.tool_ok else 'bad'} {row.reply!r} = {row.tool_value}"
            + (f" ({row.error})" if row.error else ""),
            flush=True,
        )
    score = ToolScore(tuple(rows))
    n = len(score.rows)
    direct = [float(r.direct_ok) for r in score.rows]
    tool = [float(r.tool_ok) for r in score.rows]
    diff = paired_bootstrap(direct, tool)
    print(
        f"direct {sum(direct):.0f}/{n} ({score.direct_accuracy:.0%}) · with the calculator "
        f"{sum(tool):.0f}/{n} ({score.tool_accuracy:.0%}) · gain {diff.mean:+.2f} "
        f"(95 % CI {diff.low:+.2f} to {diff.high:+.2f}) · {time.perf_counter() - begin:.0f} s"
    )


if __name__ == "__main__":
    main()
