"""Constrained decoding where no grammar engine exists: keep the grammar's characters only.

llama.cpp follows a GBNF grammar exactly. transformers has no GBNF engine, so there a logits
processor allows only the tokens made of characters the grammar's terminals can write: the
reply cannot wander into prose, and the calculator still checks its syntax.
"""

from __future__ import annotations

import re
from typing import Any

_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_CLASS = re.compile(r"\[((?:[^\]\\\n]|\\.)*)\]")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "]": "]", "[": "[", "-": "-"}
_MASKS: dict[tuple, Any] = {}  # (tokenizer, characters) -> allowed-token mask, built once


def _unescape(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return out


def grammar_chars(gbnf: str) -> frozenset[str] | None:
    """Every character the grammar's strings and classes can write (None: a negated class)."""
    chars: set[str] = set()
    for literal in _QUOTED.findall(gbnf):
        chars.update(_unescape(literal))
    for body in _CLASS.findall(_QUOTED.sub("", gbnf)):
        if body.startswith("^"):
            return None  # "anything but": no character set to keep
        items = _unescape(body)
        i = 0
        while i < len(items):
            if i + 2 < len(items) and items[i + 1] == "-":
                chars.update(chr(c) for c in range(ord(items[i]), ord(items[i + 2]) + 1))
                i += 3
            else:
                chars.add(items[i])
                i += 1
    return frozenset(chars)


def allowed_mask(tokenizer: Any, chars: frozenset[str], size: int) -> Any:
    """A boolean tensor over the vocabulary: tokens made only of `chars`, and the end token."""
    import torch

    key = (getattr(tokenizer, "name_or_path", ""), len(tokenizer), size, chars)
    if key not in _MASKS:
        mask = torch.zeros(size, dtype=torch.bool)
        for token_id in range(min(len(tokenizer), size)):
            text = tokenizer.decode([token_id])
            mask[token_id] = bool(text) and set(text) <= chars
        for end in (tokenizer.eos_token_id, tokenizer.pad_token_id):
            if end is not None and end < size:
                mask[end] = True
        _MASKS[key] = mask
    return _MASKS[key]


def charset_processor(tokenizer: Any, gbnf: str, size: int) -> Any:
    """A transformers LogitsProcessor keeping the grammar's characters (None: no constraint)."""
    chars = grammar_chars(gbnf)
    if not chars:
        return None
    from transformers import LogitsProcessor

    mask = allowed_mask(tokenizer, chars, size)

    class KeepCharacters(LogitsProcessor):
        def __call__(self, input_ids, scores):
            keep = mask.to(scores.device)[: scores.shape[-1]]
            return scores.masked_fill(~keep, float("-inf"))

    return KeepCharacters()
