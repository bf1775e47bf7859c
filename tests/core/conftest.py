"""Fixtures for the core tests: a tiny sentence-transformers embedder built in about a second."""

from pathlib import Path

import pytest

EMBEDDER_CORPUS = [
    "quantization stores weights in fewer bits: int8 halves memory, int4 quarters it .",
    "lora trains small low rank adapters beside the attention weights .",
    "the cat sat on the mat and the dog slept in the sun .",
    "paris is the capital of france ; rome is the capital of italy .",
    "retrieval finds chunks of documents similar to a question .",
    "pizza bread flour water yeast oven bake .",
]


def build_embedder(folder: Path) -> Path:
    """A 1-layer BERT, a WordPiece tokenizer and mean pooling, saved as sentence-transformers."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        EMBEDDER_CORPUS * 4, trainers.WordPieceTrainer(vocab_size=300, special_tokens=special)
    )
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=256,
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    raw = folder / "bert"
    BertModel(config).save_pretrained(raw)
    fast.save_pretrained(raw)
    model = SentenceTransformer(
        modules=[Transformer(str(raw), max_seq_length=256), Pooling(32, "mean")], device="cpu"
    )
    model.save(str(folder / "st"))
    return folder / "st"


@pytest.fixture(scope="session")
def tiny_embedder_folder(tmp_path_factory):
    """Folder of a tiny sentence-transformers model (32 dimensions)."""
    return build_embedder(tmp_path_factory.mktemp("tiny-embedder"))


@pytest.fixture(scope="session")
def tiny_embedder(tiny_embedder_folder):
    """The tiny embedder loaded once per session (loading is what the page caches)."""
    from lifecycle.rag import load_embedder

    return load_embedder(str(tiny_embedder_folder))
