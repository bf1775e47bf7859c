"""Tiny causal and seq2seq models, built from scratch in about a second (DESIGN.md §4)."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "the capital of france is paris .",
    "summarize the dialogue in one sentence .",
    "alice: hi bob ! bob: hello alice , lunch at noon ?",
    "system user assistant you are a helpful assistant .",
    "one two three four five six seven eight nine ten",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_tokenizer(chat: bool):
    """A word-level BPE tokenizer trained on a few lines."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<unk>", "<pad>", "</s>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS * 4,
        trainers.BpeTrainer(
            vocab_size=300,
            special_tokens=special,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<|im_end|>" if chat else "</s>",
    )
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    return fast


def build_causal(folder: Path, window: int = 2048) -> Path:
    """A 2-layer Llama with a chat template, saved as safetensors."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer(chat=True)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=window,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_seq2seq(folder: Path) -> Path:
    """A 2-layer T5 without a chat template, saved as safetensors."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tok = tiny_tokenizer(chat=False)
    tok.model_max_length = 128
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(tok),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
