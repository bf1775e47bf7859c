"""RAG answers: citations counted only where used as such; quality questions only from prose."""

from __future__ import annotations

import pytest

from lifecycle.rag import (
    ChunkSettings,
    Hit,
    VectorStore,
    add_documents,
    citations,
    grounded_messages,
    retrieval_quality,
    unknown_citations,
)
from lifecycle.rag.answer import citation_numbers
from lifecycle.rag.ingest import screen
from lifecycle.rag.quality import hidden_spans, make_question, prose, sample_questions
from lifecycle.rag.readers import SourceDoc

HITS = [Hit(f"text {i}", f"doc{i}.md", 0.5, f"id{i}", i, 0, f"h{i}") for i in (1, 2, 3)]
CODE_DOC = """# Setup guide

Install the package first with pip, then start the server.

```python
# Install the package with pip
import os
# Read the configuration file
print(os.environ)
```

<!-- # A hidden heading in a comment -->

![architecture diagram](diagram.png)

## Running the server

Start the server with the run command and open the page.
"""


def test_an_echoed_instruction_is_not_a_citation():
    assert citation_numbers("LoRA trains adapters, citing them like [1].") == []
    assert citation_numbers("I cite each source as [1], [2], and so on.") == []
    assert citation_numbers("[1] (guide.md) LoRA trains adapters.") == []  # the sources echoed
    assert citation_numbers("LoRA trains small adapters [2]. It is cheap [1, 3].") == [2, 1, 3]


def test_numbers_beyond_the_sources_are_flagged_not_dropped_silently():
    answer = "LoRA is cheap [2]. Quantization halves memory [4]. See also [9]."
    assert [n for n, _ in citations(answer, HITS)] == [2]
    assert unknown_citations(answer, HITS) == [4, 9]


def test_the_grounded_prompt_has_no_citation_number_to_echo():
    prompt = " ".join(m["content"] for m in grounded_messages("What is LoRA?", HITS[:1]))
    body = prompt.replace("[1] (doc1.md)", "")  # the source's own number is its label
    assert "[1]" not in body and "[2]" not in body and "square brackets" in body


def test_questions_are_not_made_from_code_comments_html_comments_or_images():
    spans = hidden_spans(CODE_DOC)
    kept = prose(CODE_DOC, spans)
    assert "Read the configuration" not in kept and "hidden heading" not in kept
    assert "diagram.png" not in prose(CODE_DOC)
    code_only = "```python\n# Install the package with pip\nimport os\n```"
    assert make_question(code_only) == ("", "none")
    assert make_question("![diagram](x.png)\n<!-- note -->") == ("", "none")


@pytest.fixture
def coll(tiny_embedder):
    return VectorStore().create("p1", "Code docs", tiny_embedder, ChunkSettings("chars", 120, 60))


def test_quality_questions_come_from_prose_once_each(coll):
    add_documents(coll, [SourceDoc("setup.md", CODE_DOC)])
    picked = sample_questions(coll, 50, seed=0)
    questions = [q for _, _, q, _ in picked]
    assert len(questions) == len({q.casefold() for q in questions})  # no duplicate
    text = " ".join(questions)
    for unwanted in ("Install the package with pip", "configuration file", "hidden", "diagram"):
        assert unwanted not in text, questions
    report = retrieval_quality(coll, n=50, k=2, seed=0)
    assert len(report.rows) == len(picked)
    assert all(isinstance(r.rank, int) or r.rank is None for r in report.rows)


def test_duplicates_are_known_before_embedding(coll):
    doc = SourceDoc("a.md", "Paris is the capital of France. " * 3)
    add_documents(coll, [doc])
    fresh, skipped = screen(coll, [doc, SourceDoc("b.md", "New text here. " * 3)])
    assert [d.name for d in fresh] == ["b.md"]
    assert [s.name for s in skipped] == ["a.md"] and "Same content" in skipped[0].reason
