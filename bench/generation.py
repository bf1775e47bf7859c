"""Generation speed: our generate vs plain model.generate on the embedded model, same run.

Prints tokens/s of both (greedy, 64 new tokens, same prompt), their ratio (goal >= 0.95), time to
first token, and the cold load (de-quantizing the GGUF) against a warm load (converted folder).
Run: .venv/bin/python -m bench.generation
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

os.environ["LIFECYCLE_HOME"] = tempfile.mkdtemp(prefix="bench-home-")  # forces a cold start

import torch

from lifecycle.models import EMBEDDED, GenParams, generate, load_model
from lifecycle.models.sources import convert_embedded
from lifecycle.models.transformers_model import encode

NEW_TOKENS = 64
ROUNDS = 5
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a long story about a dragon who learns to bake bread."},
]


def main() -> None:
    start = time.perf_counter()
    convert_embedded()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    lm = load_model(EMBEDDED)
    warm = time.perf_counter() - start
    params = GenParams(max_new_tokens=NEW_TOKENS)  # greedy
    ids = torch.tensor([encode(lm, MESSAGES)])
    raw_kwargs = dict(
        max_new_tokens=NEW_TOKENS,
        do_sample=False,
        pad_token_id=lm.tokenizer.pad_token_id,
        attention_mask=torch.ones_like(ids),
    )
    generate(lm, MESSAGES, params)  # warm-up both paths once
    ours, raw, ttft = [], [], []
    for _ in range(ROUNDS):  # interleaved so drift on the machine hits both equally
        result = generate(lm, MESSAGES, params)
        ours.append(result.completion_tokens / result.latency_s)
        ttft.append(result.ttft_s or 0.0)
        begin = time.perf_counter()
        with torch.inference_mode():
            out = lm.model.generate(ids, **raw_kwargs)
        raw.append((out.shape[1] - ids.shape[1]) / (time.perf_counter() - begin))
    mine, plain = statistics.median(ours), statistics.median(raw)
    print(f"model: {lm.name} on {lm.device}, {torch.get_num_threads()} threads")
    print(f"cold load (de-quantize GGUF + save safetensors): {cold:.1f} s")
    print(f"warm load (converted folder):                    {warm:.2f} s")
    print(
        f"plain model.generate: {plain:.1f} tokens/s (median of {ROUNDS}, {NEW_TOKENS} new tokens)"
    )
    print(f"our generate:         {mine:.1f} tokens/s")
    print(f"ratio ours / plain:   {mine / plain:.3f}  (goal >= 0.95)")
    print(f"time to first token:  {statistics.median(ttft) * 1000:.0f} ms (median)")


if __name__ == "__main__":
    main()
