"""RAG core on a tiny embedder: reading, splitting, the store, retrieval, answers, quality."""

import pytest

from lifecycle.models import GenerationResult, GenParams, load_model, stream
from lifecycle.rag import (
    ChunkSettings,
    Hit,
    RagError,
    VectorStore,
    add_documents,
    add_uploads,
    citations,
    delete_document,
    document_text,
    documents,
    ensure_starter,
    finish_answer,
    grounded_answer,
    grounded_messages,
    plain_answer,
    preview,
    preview_upload,
    rag_predictor,
    read_upload,
    readers,
    retrieval_quality,
    retrieve,
    safe_name,
    stats,
)
from lifecycle.rag.answer import LOW_RELEVANCE, is_low_relevance
from lifecycle.rag.embedder import load_embedder, resolve_embedder
from lifecycle.rag.quality import QualityReport, QualityRow, make_question, question_asker
from lifecycle.rag.readers import SourceDoc
from lifecycle.rag.retrieval import mmr_order
from lifecycle.rag.starter import starter_documents
from lifecycle.rag.store import StoreConfig, collection_name

SMALL = ChunkSettings("chars", 200, 20)
GUIDE = (
    "# Deploy\n\nQuantization stores weights in fewer bits. int8 halves memory.\n\n"
    "## Serving\n\nBatching and caching raise throughput on a server.\n\n"
    + "Monitoring catches drift after launch. "
    * 8
).strip()


def make_pdf(text: str | None) -> bytes:
    """A one-page PDF, with a text object or (None) with no text at all, like a scan."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET" if text else ""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


@pytest.fixture
def store():
    return VectorStore()


@pytest.fixture
def coll(store, tiny_embedder):
    return store.create("p1", "My docs", tiny_embedder, SMALL)


@pytest.fixture(scope="module")
def lm(tiny_causal):
    return load_model(str(tiny_causal))


# Reading uploads


def test_text_markdown_html_and_pdf_are_read():
    assert read_upload("a.txt", "héllo\r\nworld".encode()).text == "héllo\nworld"
    assert read_upload("b.MD", b"\xef\xbb\xbf# Title\n\nbody").text == "# Title\n\nbody"
    html = b"<html><head><style>p{}</style></head><body><h1>Hi</h1><p>A &amp; B</p>"
    html += b"<script>alert('x')</script></body></html>"
    page = read_upload("c.html", html).text
    assert page == "Hi\n\nA & B" and "alert" not in page
    assert (
        "Quantization halves memory"
        in read_upload("d.pdf", make_pdf("Quantization halves memory")).text
    )


def test_a_pdf_without_text_layer_is_refused_clearly():
    with pytest.raises(RagError, match="no text layer"):
        read_upload("scan.pdf", make_pdf(None))
    with pytest.raises(RagError, match="could not be read as a PDF"):
        read_upload("broken.pdf", b"%PDF-1.4 not really")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "is empty"),
        ("bin.txt", b"abc\x00\x01\x02", "binary"),
        ("latin.txt", "café".encode("latin-1"), "not UTF-8"),
        ("spaces.md", b"   \n\n  ", "no text"),
        ("tool.exe", b"MZ", "only .txt"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(name, data, message):
    with pytest.raises(RagError, match=message):
        read_upload(name, data)


def test_huge_uploads_are_refused(monkeypatch):
    monkeypatch.setattr(readers, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(RagError, match="the limit is"):
        read_upload("big.txt", b"x" * 11)


def test_file_names_are_made_safe():
    assert safe_name("../etc/passwd") == "passwd"
    assert safe_name("..\\..\\win.ini") == "win.ini"
    assert safe_name("<script>.md") == "script_.md"
    assert safe_name("...") == "document"
    long = safe_name("x" * 300 + ".txt")
    assert len(long) <= readers.MAX_NAME_CHARS and long.endswith(".txt")
    doc = read_upload("../../secret notes.txt", b"text")
    assert doc.name == "secret notes.txt" and doc.original_name == "../../secret notes.txt"


# Chunking


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (ChunkSettings("chars", 100, 100), "overlap"),
        (ChunkSettings("chars", 100, -1), "overlap"),
        (ChunkSettings("chars", 0, 0), "between"),
        (ChunkSettings("chars", 10**6, 0), "between"),
        (ChunkSettings("words", 100, 0), "unit"),
    ],
)
def test_bad_chunk_settings_are_refused(settings, message):
    with pytest.raises(RagError, match=message):
        settings.check()


def test_preview_splits_with_exact_offsets_and_overlap():
    shown = preview(GUIDE, SMALL)
    assert shown.count >= 3 and shown.characters == len(GUIDE)
    assert all(len(c.text) <= 200 for c in shown.chunks)
    for chunk in shown.chunks:
        assert GUIDE[chunk.start : chunk.start + len(chunk.text)] == chunk.text
    assert [c.index for c in shown.chunks] == list(range(shown.count))
    assert preview_upload("g.md", GUIDE.encode(), SMALL).count == shown.count


def test_splitting_by_tokens_needs_and_uses_the_tokenizer(tiny_causal):
    from transformers import AutoTokenizer

    tokens = ChunkSettings("tokens", 30, 5)
    with pytest.raises(RagError, match="tokenizer"):
        preview(GUIDE, tokens)
    tok = AutoTokenizer.from_pretrained(tiny_causal)
    chunks = preview(GUIDE, tokens, tok).chunks
    assert len(chunks) > 1
    assert all(len(tok(c.text, add_special_tokens=False)["input_ids"]) <= 30 for c in chunks)


# The store


def test_collection_names_are_safe_and_per_project():
    name = collection_name("p1", "Mes données ../ 2026!")
    assert 3 <= len(name) <= 512 and set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-._")
    assert collection_name("p1", "Docs") == collection_name("p1", "  docs ")
    assert collection_name("p1", "Docs") != collection_name("p2", "Docs")


def test_collections_are_listed_per_project_and_labels_unique(store, coll, tiny_embedder):
    store.create("p2", "Other", tiny_embedder, SMALL)
    assert [c.label for c in store.collections("p1")] == ["My docs"]
    info = store.collections("p1")[0]
    assert info.embedder_ref == tiny_embedder.ref and info.chunks == SMALL
    with pytest.raises(RagError, match="already has"):
        store.create("p1", "MY DOCS", tiny_embedder, SMALL)
    with pytest.raises(RagError, match="name"):
        store.create("p1", "  ", tiny_embedder, SMALL)


def test_add_with_progress_dedup_and_listing(coll):
    steps = []
    report = add_uploads(
        coll,
        [("guide.md", GUIDE.encode()), ("copy.md", GUIDE.encode()), ("bad.txt", b"")],
        on_step=lambda done, total: steps.append((done, total)),
    )
    assert [name for name, _, _ in report.added] == ["guide.md"]
    assert {s.name for s in report.skipped} == {"copy.md", "bad.txt"}
    assert steps[-1] == (report.chunks, report.chunks)
    again = add_uploads(coll, [("renamed.md", GUIDE.encode())])
    assert again.chunks == 0 and "Same content" in again.skipped[0].reason
    (doc,) = documents(coll)
    assert doc.source == "guide.md" and doc.chunks == report.chunks and doc.chars == len(GUIDE)
    summary = stats(coll)
    assert (summary.documents, summary.chunks) == (1, report.chunks)
    assert summary.mean_chunk_chars > 0


def test_batches_cover_every_chunk(coll):
    steps = []
    docs = [SourceDoc(f"d{i}.txt", f"document number {i} about topic {i}") for i in range(7)]
    add_documents(coll, docs, on_step=lambda done, total: steps.append(done), batch_size=3)
    assert steps == [3, 6, 7] and stats(coll).chunks == 7


def test_an_interrupted_add_leaves_no_half_document(coll):
    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        add_documents(coll, [SourceDoc("g.md", GUIDE)], on_step=stop, batch_size=1)
    assert documents(coll) == []
    assert add_documents(coll, [SourceDoc("g.md", GUIDE)]).chunks > 1  # a retry is not a dup


def test_document_text_is_kept_and_rebuilt_from_chunks(coll):
    add_documents(coll, [SourceDoc("g.md", GUIDE)])
    (doc,) = documents(coll)
    assert document_text(coll, doc.doc_hash) == GUIDE
    (coll.texts / f"{doc.doc_hash}.txt").unlink()  # e.g. a server store used from another machine
    rebuilt = document_text(coll, doc.doc_hash)
    assert len(rebuilt) == len(GUIDE) and rebuilt.split() == GUIDE.split()


def test_a_tampered_chunk_offset_cannot_ask_for_gigabytes(coll):
    add_documents(coll, [SourceDoc("g.md", GUIDE)])
    (doc,) = documents(coll)
    (coll.texts / f"{doc.doc_hash}.txt").unlink()
    got = coll.chroma.get(where={"doc_hash": doc.doc_hash}, include=["metadatas"])
    metas = [{**m, "start": 10**12} for m in got["metadatas"]]
    metas[0]["start"] = "not a number"
    coll.chroma.update(ids=got["ids"], metadatas=metas)
    assert len(document_text(coll, doc.doc_hash)) < 3 * len(GUIDE) + 10_000


def test_delete_document_and_collection(store, coll):
    add_documents(coll, [SourceDoc("g.md", GUIDE), SourceDoc("o.txt", "other text here")])
    guide = next(d for d in documents(coll) if d.source == "g.md")
    assert delete_document(coll, guide.doc_hash) == guide.chunks
    assert [d.source for d in documents(coll)] == ["o.txt"]
    assert not (coll.texts / f"{guide.doc_hash}.txt").exists()
    store.delete(coll.info.name)
    assert store.collections("p1") == [] and not coll.texts.exists()
    with pytest.raises(RagError, match="No collection"):
        store.open(coll.info.name, coll.embedder)


def test_deleting_a_project_removes_only_its_collections(store, coll, tiny_embedder):
    store.create("p1", "Second", tiny_embedder, SMALL)
    store.create("p2", "Kept", tiny_embedder, SMALL)
    assert store.delete_project("p1") == 2
    assert store.collections("p1") == [] and [c.label for c in store.collections("p2")] == ["Kept"]


def test_bad_store_settings_are_refused():
    with pytest.raises(RagError, match="port between"):
        VectorStore(StoreConfig("server", "127.0.0.1", 0))
    with pytest.raises(RagError, match="Store kind"):
        VectorStore(StoreConfig("cloud"))


def test_collections_persist_across_clients(store, coll, tiny_embedder):
    from chromadb.api.client import SharedSystemClient

    add_documents(coll, [SourceDoc("g.md", GUIDE)])
    before = retrieve(coll, "quantization memory", 2)
    SharedSystemClient.clear_system_cache()  # forget the open client, as a restart would
    fresh = VectorStore(StoreConfig())
    reopened = fresh.open(fresh.collections("p1")[0].name, tiny_embedder)
    assert [h.chunk_id for h in retrieve(reopened, "quantization memory", 2)] == [
        h.chunk_id for h in before
    ]


def test_opening_with_another_embedder_is_refused(store, coll, tiny_embedder):
    other = load_embedder(tiny_embedder.ref)
    other.ref = "another-embedder"
    with pytest.raises(RagError, match="was built with the embedder"):
        store.open(coll.info.name, other)


def test_unknown_embedders_are_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)
    with pytest.raises(RagError, match="hub is off"):
        resolve_embedder("sentence-transformers/all-mpnet-base-v2")
    with pytest.raises(RagError, match="Unknown embedder"):
        resolve_embedder("no such thing")
    with pytest.raises(RagError, match="not a sentence-transformers model folder"):
        resolve_embedder(str(tmp_path))


# Retrieval and answers


def test_retrieval_scores_are_cosine_and_sorted(coll):
    texts = ["paris is the capital of france", "lora trains small adapters", "pizza bread"]
    add_documents(coll, [SourceDoc(f"{i}.txt", t) for i, t in enumerate(texts)])
    hits = retrieve(coll, "lora trains small adapters", 3)
    assert hits[0].source == "1.txt" and hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.score <= 1.0001 for h in hits)
    assert len(retrieve(coll, "pizza", 10)) == 3  # k larger than the collection
    mmr = retrieve(coll, "lora", 2, mmr=True)
    assert len({h.chunk_id for h in mmr}) == 2


def test_mmr_prefers_variety_over_near_duplicates():
    query = [1.0, 0.0]
    cands = [[0.98, 0.199], [0.97, 0.243], [0.6, 0.8]]  # 0 and 1 are near duplicates
    assert mmr_order(query, cands, 2, lambda_mult=1.0) == [0, 1]  # pure relevance
    assert mmr_order(query, cands, 2, lambda_mult=0.3) == [0, 2]  # variety wins
    assert sorted(mmr_order(query, cands, 5)) == [0, 1, 2]  # k beyond the candidates


def test_questions_on_an_empty_collection_are_refused(coll):
    with pytest.raises(RagError, match="empty"):
        retrieve(coll, "anything", 4)
    with pytest.raises(RagError, match="Type a question"):
        retrieve(coll, "  ", 4)


def hit(n: int, score: float = 0.5) -> Hit:
    return Hit(f"text {n}", f"s{n}.md", score, f"id{n}", n, 0)


def test_citations_map_to_hits_and_ignore_out_of_range():
    hits = [hit(1), hit(2), hit(3)]
    cited = citations("Int8 halves memory [2]. Also [1, 3] and [9], [0], [2] again.", hits)
    assert [(n, h.chunk_id) for n, h in cited] == [(2, "id2"), (1, "id1"), (3, "id3")]
    assert citations("no sources", hits) == []


def test_low_relevance_flag():
    assert is_low_relevance([hit(1, LOW_RELEVANCE - 0.01)])
    assert not is_low_relevance([hit(1, 0.1), hit(2, LOW_RELEVANCE + 0.01)])
    assert is_low_relevance([])


def test_grounded_prompt_numbers_the_sources():
    messages = grounded_messages("What is int8?", [hit(1), hit(2)])
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "only the numbered sources" in messages[0]["content"]
    assert "[1] (s1.md) text 1" in messages[1]["content"]
    assert "Question: What is int8?\n" in messages[1]["content"]
    assert messages[1]["content"].endswith("source's number in square brackets.")  # repeated


def test_grounded_answer_plain_answer_and_predictor(coll, lm):
    add_documents(coll, [SourceDoc("g.md", GUIDE)])
    params = GenParams(max_new_tokens=6)
    answer = grounded_answer(lm, coll, "what is quantization?", params, k=2)
    assert len(answer.hits) == 2 and isinstance(answer.result, GenerationResult)
    assert answer.text == answer.result.text.strip() and answer.result.completion_tokens > 0
    assert all(h in answer.hits for _, h in answer.cited)
    assert isinstance(answer.low_relevance, bool)
    assert plain_answer(lm, "what is quantization?", params).completion_tokens > 0
    result = rag_predictor(lm, coll, params, k=1)("what is quantization?")
    assert isinstance(result, GenerationResult) and result.prompt_tokens > 20


def test_streamed_answer_follows_the_page_flow(coll, lm):
    add_documents(coll, [SourceDoc("g.md", GUIDE)])
    hits = retrieve(coll, "what is quantization?", 2)
    run = stream(lm, grounded_messages("what is quantization?", hits), GenParams(max_new_tokens=5))
    text = "".join(run)
    answer = finish_answer("what is quantization?", hits, run.result)
    assert answer.text == text.strip() and answer.hits == hits and answer.result is run.result
    assert isinstance(question_asker(lm, GenParams(max_new_tokens=3))("a passage"), str)


# Retrieval quality


def test_quality_metrics_arithmetic():
    rows = tuple(QualityRow("q", "heading", "t", "s", rank, ()) for rank in (1, None, 2, 4))
    report = QualityReport(4, 0, rows)
    assert report.hit_rate == 0.75 and report.mrr == pytest.approx((1 + 0.5 + 0.25) / 4)


def test_questions_come_from_headings_the_model_or_the_opening():
    assert make_question("## Pitfalls\n\ntext", title="Stage 6: Deploy") == (
        "What does Stage 6: Deploy say about Pitfalls?",
        "heading",
    )
    assert (
        make_question("# Deploy\nx", title="Deploy")[0] == "What does the guide say about Deploy?"
    )
    asked = make_question("plain text. more", ask=lambda prompt: "Sure!\nWhat is plain?")
    assert asked == ("What is plain?", "model")
    assert make_question("First sentence here. Second one.") == ("First sentence here.", "sentence")


def test_retrieval_quality_on_a_constructed_case(coll):
    # One-sentence documents: each question is its chunk's own text, so retrieval must rank it 1st.
    texts = ["paris is the capital of france.", "lora trains small adapters.", "pizza bread."]
    texts += ["the cat sat on the mat.", "retrieval finds chunks."]
    add_documents(coll, [SourceDoc(f"{i}.txt", t) for i, t in enumerate(texts)])
    steps = []
    report = retrieval_quality(coll, n=4, k=2, seed=3, on_step=lambda d, t: steps.append(d))
    assert len(report.rows) == 4 and steps == [1, 2, 3, 4]
    assert report.hit_rate == 1.0 and report.mrr == 1.0
    assert all(r.origin == "sentence" and r.rank == 1 for r in report.rows)
    same = retrieval_quality(coll, n=4, k=2, seed=3)
    assert [r.target_id for r in same.rows] == [r.target_id for r in report.rows]
    with pytest.raises(RagError, match="between"):
        retrieval_quality(coll, n=0)


# Starter collection


def test_starter_documents_cover_guides_and_tasks():
    docs = starter_documents()
    names = [d.name for d in docs]
    assert sum(n.endswith(".md") and not n.startswith("task-") for n in names) == 7
    assert "task-summarization.md" in names and len(docs) == 17
    summary = next(d for d in docs if d.name == "task-summarization.md").text
    assert summary.startswith("# Task: ") and "## Risks" in summary


def test_starter_collection_is_idempotent(store, tiny_embedder):
    coll, first = ensure_starter(store, "p1", tiny_embedder)
    assert len(first.added) == 17 and first.chunks == stats(coll).chunks
    again, second = ensure_starter(store, "p1", tiny_embedder)
    assert second.chunks == 0 and again.info.name == coll.info.name
    assert len(store.collections("p1")) == 1
