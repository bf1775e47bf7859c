"""The vector store: chromadb on disk or a Chroma server, with collections per project."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.config import apply_offline_env, data_home
from lifecycle.rag.chunking import ChunkSettings
from lifecycle.rag.embedder import Embedder, RagError
from lifecycle.store import now
from lifecycle.text import slug

APP_TAG = "lifecycle"  # marks our collections on a server shared with other tools
MAX_LABEL_CHARS = 80
KINDS = ("embedded", "server")


@dataclass(frozen=True)
class StoreConfig:
    """Where vectors live: a folder in the data home, or a running `chroma run` server."""

    kind: str = "embedded"  # embedded | server
    host: str = "127.0.0.1"  # server only
    port: int = 8000  # server only; chroma's default
    path: str = ""  # embedded only; empty = data_home()/vectors

    def describe(self) -> str:
        """For messages: which store this is."""
        if self.kind == "server":
            return f"Chroma server at {self.host}:{self.port}"
        return f"embedded store in {self.folder()}"

    def folder(self) -> Path:
        """The embedded store's folder."""
        return Path(self.path).expanduser() if self.path else data_home() / "vectors"

    def key(self) -> str:
        """A folder name for this store's side files (documents' full text)."""
        if self.kind == "server":
            return slug(f"server-{self.host}-{self.port}", "server")
        return "embedded" if not self.path else f"embedded-{_short_hash(str(self.folder()))}"


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as the user knows it: label, embedder and chunk settings."""

    name: str  # chroma's name, derived from project and label
    label: str
    project_id: str
    embedder_ref: str
    chunks: ChunkSettings
    created_at: str = ""


@dataclass
class RagCollection:
    """An open collection: chroma's object, its embedder and where full texts are kept."""

    info: CollectionInfo
    chroma: Any
    embedder: Embedder
    texts: Path  # one <doc_hash>.txt per document: the UI highlights chunks in it
    config: StoreConfig


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def collection_name(project_id: str, label: str) -> str:
    """A chroma-safe name (3-512 of [a-zA-Z0-9._-]) unique per project and label (any case)."""
    digest = _short_hash(f"{project_id}\0{label.strip().casefold()}")
    return f"lc-{slug(project_id, 'p')[:40]}-{slug(label, 'c')[:40]}-{digest}"


def _not_answering(config: StoreConfig) -> RagError:
    return RagError(
        f"Chroma server at {config.host}:{config.port} is not answering: start it with "
        f"`chroma run --path DIR --port {config.port}` or switch to the embedded store."
    )


def _is_connection_error(err: Exception) -> bool:
    if isinstance(err, ConnectionError | TimeoutError):
        return True
    if type(err).__module__.split(".")[0] in ("httpx", "httpcore"):
        return True
    return isinstance(err, ValueError) and "could not connect" in str(err).lower()


@contextmanager
def guard(config: StoreConfig) -> Iterator[None]:
    """Turn connection failures and store errors into RagError with what to do."""
    from chromadb.errors import ChromaError

    try:
        yield
    except RagError:
        raise
    except Exception as err:
        if config.kind == "server" and _is_connection_error(err):
            raise _not_answering(config) from err
        if isinstance(err, ChromaError):
            raise RagError(f"The {config.describe()} refused the request: {err}") from err
        raise


def connect(config: StoreConfig) -> Any:
    """A chromadb client for the configuration (telemetry off)."""
    if config.kind not in KINDS:
        raise RagError(f"Store kind must be one of {', '.join(KINDS)}, not {config.kind!r}.")
    if config.kind == "server" and (not config.host.strip() or not 0 < int(config.port) < 65536):
        raise RagError("Give the Chroma server's host and a port between 1 and 65535.")
    apply_offline_env()
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    with guard(config):
        if config.kind == "server":
            return chromadb.HttpClient(host=config.host, port=int(config.port), settings=settings)
        config.folder().mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(config.folder()), settings=settings)


def _info(name: str, meta: dict[str, Any] | None) -> CollectionInfo:
    meta = meta or {}
    return CollectionInfo(
        name=name,
        label=str(meta.get("label", name)),
        project_id=str(meta.get("project_id", "")),
        embedder_ref=str(meta.get("embedder", "")),
        chunks=ChunkSettings.from_metadata(meta),
        created_at=str(meta.get("created_at", "")),
    )


class VectorStore:
    """A connected store (the page caches one per configuration)."""

    def __init__(self, config: StoreConfig = StoreConfig()):
        self.config = config
        self.client = connect(config)

    def collections(self, project_id: str) -> list[CollectionInfo]:
        """The project's collections, by label."""
        with guard(self.config):
            found = [_info(c.name, c.metadata) for c in self.client.list_collections()]
        mine = [c for c in found if c.project_id == project_id and c.embedder_ref]
        return sorted(mine, key=lambda c: c.label.casefold())

    def find(self, project_id: str, label: str) -> CollectionInfo | None:
        """The project's collection with this label (any case), if any."""
        name = collection_name(project_id, label)
        return next((c for c in self.collections(project_id) if c.name == name), None)

    def create(
        self, project_id: str, label: str, embedder: Embedder, chunks: ChunkSettings
    ) -> RagCollection:
        """A new empty collection; refuses a label the project already uses."""
        label = " ".join(label.split())
        if not label or len(label) > MAX_LABEL_CHARS:
            raise RagError(f"Give the collection a name of 1 to {MAX_LABEL_CHARS} characters.")
        chunks.check()
        if self.find(project_id, label):
            raise RagError(f"This project already has a collection named {label!r}.")
        meta = {"app": APP_TAG, "label": label, "project_id": project_id}
        meta.update(embedder=embedder.ref, created_at=now(), **chunks.to_metadata())
        name = collection_name(project_id, label)
        with guard(self.config):
            chroma = self.client.create_collection(
                name,
                metadata=meta,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=_function(embedder),
            )
        return self._handle(_info(name, meta), chroma, embedder)

    def open(self, name: str, embedder: Embedder) -> RagCollection:
        """An existing collection, with the embedder it was built with."""
        from chromadb.errors import NotFoundError

        try:
            with guard(self.config):
                chroma = self.client.get_collection(name, embedding_function=_function(embedder))
        except RagError as err:
            if isinstance(err.__cause__, NotFoundError):
                raise RagError(f"No collection {name} in the {self.config.describe()}.") from err
            raise
        info = _info(name, chroma.metadata)
        if info.embedder_ref != embedder.ref:
            raise RagError(
                f"{info.label!r} was built with the embedder {info.embedder_ref}: load that one "
                "(vectors of different embedders cannot be compared)."
            )
        return self._handle(info, chroma, embedder)

    def delete(self, name: str) -> None:
        """Remove a collection and its documents' texts."""
        with guard(self.config):
            if name in {c.name for c in self.client.list_collections()}:
                self.client.delete_collection(name)
        shutil.rmtree(self._texts(name), ignore_errors=True)

    def delete_project(self, project_id: str) -> int:
        """Remove all of a project's collections (when the project is deleted); returns how many."""
        found = self.collections(project_id)
        for info in found:
            self.delete(info.name)
        return len(found)

    def _texts(self, name: str) -> Path:
        # The name becomes a folder that delete() removes: only a chroma-shaped name, never a path.
        if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{2,511}", name) or ".." in name:
            raise RagError(f"{name!r} is not a collection name.")
        return data_home() / "rag" / self.config.key() / name

    def _handle(self, info: CollectionInfo, chroma: Any, embedder: Embedder) -> RagCollection:
        return RagCollection(info, chroma, embedder, self._texts(info.name), self.config)


def _function(embedder: Embedder) -> Any:
    from lifecycle.rag.chroma_ef import LifecycleEmbeddingFunction

    return LifecycleEmbeddingFunction(embedder)
