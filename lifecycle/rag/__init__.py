"""Stage 7, retrieval: embedders, the vector store, ingestion, grounded answers, quality."""

from lifecycle.rag.answer import (
    LOW_RELEVANCE,
    Answer,
    citations,
    finish_answer,
    grounded_answer,
    grounded_messages,
    plain_answer,
    plain_messages,
    rag_predictor,
    unknown_citations,
)
from lifecycle.rag.chunking import ChunkSettings, Preview, preview
from lifecycle.rag.contents import (
    CollectionStats,
    DocumentInfo,
    delete_document,
    document_text,
    documents,
    stats,
)
from lifecycle.rag.embedder import (
    EMBEDDED_EMBEDDER,
    EMBEDDED_EMBEDDER_NAME,
    Embedder,
    RagError,
    load_embedder,
    token_length,
)
from lifecycle.rag.ingest import IngestReport, add_documents, add_uploads, preview_upload
from lifecycle.rag.quality import QualityReport, retrieval_quality
from lifecycle.rag.readers import MAX_UPLOAD_BYTES, SourceDoc, read_upload, safe_name
from lifecycle.rag.retrieval import Hit, retrieve
from lifecycle.rag.starter import STARTER_LABEL, ensure_starter
from lifecycle.rag.store import CollectionInfo, RagCollection, StoreConfig, VectorStore

__all__ = [
    "EMBEDDED_EMBEDDER",
    "EMBEDDED_EMBEDDER_NAME",
    "LOW_RELEVANCE",
    "MAX_UPLOAD_BYTES",
    "STARTER_LABEL",
    "Answer",
    "ChunkSettings",
    "CollectionInfo",
    "CollectionStats",
    "DocumentInfo",
    "Embedder",
    "Hit",
    "IngestReport",
    "Preview",
    "QualityReport",
    "RagCollection",
    "RagError",
    "SourceDoc",
    "StoreConfig",
    "VectorStore",
    "add_documents",
    "add_uploads",
    "citations",
    "unknown_citations",
    "finish_answer",
    "delete_document",
    "document_text",
    "documents",
    "ensure_starter",
    "grounded_answer",
    "grounded_messages",
    "load_embedder",
    "plain_answer",
    "plain_messages",
    "preview",
    "preview_upload",
    "rag_predictor",
    "read_upload",
    "retrieval_quality",
    "retrieve",
    "safe_name",
    "stats",
    "token_length",
]
