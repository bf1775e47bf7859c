"""Infrastructure page, RAG: the store, collections, uploads, asking with citations."""
