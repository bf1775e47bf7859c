"""Tiny causal and seq2seq models, built from scratch in about a second."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "the capital of france is paris .",
    "summarize the dialogue in one sentence .",
    "alice: hi bob ! bob: hello alice , lunch at noon ?",
    "system user assistant you are a helpful assistant .",
    "one two three four five six seven eight nine ten",
]
CHATS = [  # what a tiny model learns by heart (test_gguf compares runtimes on these)
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Summarize: alice asks bob to lunch at noon.", "Alice invites Bob to lunch at noon."),
    ("Count to five.", "One, two, three, four, five."),
    ("Name a colour.", "Blue is a colour."),
]
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
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


def chat(question: str) -> list[dict]:
    """A system message and one question (SmolLM2's template injects a system message else)."""
    return [SYSTEM, {"role": "user", "content": question}]


def build_causal(
    folder: Path, window: int = 2048, tokenizer=None, taught=(), hidden: int = 32
) -> Path:
    """A 2-layer Llama with a chat template, saved as safetensors.

    tokenizer: a real one instead of the tiny BPE (llama.cpp's converter only takes
    tokenizers it knows); taught: (question, answer) chats it learns by heart, so that its
    greedy answers are confident (runtimes then agree token for token; 64 wide learns them).
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tokenizer or tiny_tokenizer(chat=True)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=window,
        tie_word_embeddings=tokenizer is not None,  # a real vocabulary: one matrix, not two
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id,
    )
    model = LlamaForCausalLM(config)
    if taught:
        teach(model, tok, taught)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def teach(model, tok, chats, steps: int = 60) -> None:
    """Full fine-tuning on a few chats until the model repeats them."""
    import torch

    texts = [
        tok.apply_chat_template(chat(q) + [{"role": "assistant", "content": a}], tokenize=False)
        for q, a in chats
    ]
    batch = tok(texts, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def save_lora(base: Path, final: Path) -> Path:
    """A LoRA adapter on `base` with non-zero weights (merging changes the model), saved as a
    fine-tune run saves its final model: adapter, base path and tokenizer."""
    import json

    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base)
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, lora).save_pretrained(final)
    config = json.loads((final / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(base)
    (final / "adapter_config.json").write_text(json.dumps(config))
    AutoTokenizer.from_pretrained(base).save_pretrained(final)
    return final


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
