"""One short check that the model runtime works on a CUDA GPU: placement, bf16, generation.

Builds tiny causal and seq2seq models (the embedded GGUF is too large to ship to a GPU box),
loads them through lifecycle.models, and generates greedy, sampled and streamed answers.
Run on a machine with a GPU: python3 -m bench.cuda_check
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from lifecycle.models import GenParams, generate, load_model, stream
from tests.tiny_models import build_causal, build_seq2seq

ASK = [
    {"role": "system", "content": "you are a helpful assistant ."},
    {"role": "user", "content": "the capital of france is"},
]


def check(folder: Path) -> None:
    lm = load_model(str(folder))
    param = next(lm.model.parameters())
    assert lm.device == "cuda" and param.is_cuda and param.dtype == torch.bfloat16, (
        lm.device,
        param,
    )
    greedy = generate(lm, ASK, GenParams(max_new_tokens=32))
    again = generate(lm, ASK, GenParams(max_new_tokens=32))
    assert greedy.text == again.text and greedy.completion_tokens == 32
    hot = GenParams(max_new_tokens=32, do_sample=True, temperature=1.5, seed=5)
    assert generate(lm, ASK, hot).text == generate(lm, ASK, hot).text
    run = stream(lm, ASK, GenParams(max_new_tokens=16))
    assert "".join(run) == run.result.text
    print(
        f"{folder.name}: {type(lm.model).__name__} on {param.device} {param.dtype}, "
        f"{greedy.completion_tokens / greedy.latency_s:.0f} tokens/s, "
        f"first token {1000 * (greedy.ttft_s or 0):.1f} ms, seq2seq={lm.is_seq2seq}"
    )


def main() -> None:
    print(
        f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}, "
        f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-'}"
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        check(build_causal(Path(tmp) / "causal"))
        check(build_seq2seq(Path(tmp) / "seq2seq"))
    print(f"CUDA path OK in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
