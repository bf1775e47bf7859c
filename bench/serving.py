"""Serving speed: every way the app runs the embedded SmolLM2, on the same prompts, in one run.

Prints tokens/s and time to first token (ttft) of
(a) plain transformers `model.generate`, (b) our transformers backend,
(c) plain llama-cpp-python `create_completion` (streamed), (d) our llama.cpp path,
(e) our OpenAI-compatible backend against the local llama.cpp server, beside a plain httpx
    streaming POST of the identical request body to the same server;
then a markdown table for the README and the goals: (b) >= 0.95 x (a), (d) >= 0.95 x (c), and
(e) adds under 10 ms a request over the plain HTTP call (median of paired differences over short
requests of OVERHEAD_TOKENS new tokens, so that generation noise stays small).
All greedy, NEW_TOKENS new tokens. One stopwatch around every call: tokens/s = completion tokens /
seconds of the whole request (prompt included), the same on both sides of every ratio; ttft =
seconds until the first new token (plain model.generate: its streamer's first token) or the first
non-empty text (every other path). Plain paths get their prompt ids or request body ready before
the clock starts; ours are timed from the call, so their template and tokenizer time counts.
Our transformers backend reports the first sampled token's time (its streamer shows text only
when a word ends).
Each pair alternates while cycling through three prompts, so no request follows one with the same
prompt (llama.cpp reuses a cached prompt prefix); medians over all requests of a path.
Thread counts and OMP_WAIT_POLICY are printed, and the range of tokens/s shows the noise: on a
busy 2-core machine llama.cpp on 2 threads swings widely (each token waits for its slowest
thread), so also try --threads 1 and OMP_WAIT_POLICY=PASSIVE.
Run: .venv/bin/python -m bench.serving [--slow-rounds 2] [--fast-rounds 3] [--threads N]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

os.environ["LIFECYCLE_HOME"] = tempfile.mkdtemp(prefix="bench-serving-")  # never the user's
atexit.register(shutil.rmtree, os.environ["LIFECYCLE_HOME"], ignore_errors=True)  # 0.5 GB model

import httpx  # noqa: E402 (after the env is set)
import torch  # noqa: E402 (after the env is set)
from transformers.generation.streamers import BaseStreamer  # noqa: E402 (after the env is set)

from lifecycle.models import EMBEDDED, GenParams, load_model, stream  # noqa: E402 (after the env is set)
from lifecycle.models.transformers_model import encode  # noqa: E402 (after the env is set)
from lifecycle.serving import local_server  # noqa: E402 (after the env is set)
from lifecycle.serving.llamacpp import default_threads, load_llamacpp  # noqa: E402 (after the env is set)
from lifecycle.serving.openai_api import open_endpoint, request_body  # noqa: E402 (after the env is set)

NEW_TOKENS = 64
OVERHEAD_TOKENS = 4  # short requests: the HTTP overhead is not drowned in generation noise
OVERHEAD_ROUNDS = 5  # of short requests: cheap, and the difference is small against the noise
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
PROMPTS = [  # three (coprime with the two paths of a pair); none ends before 64 tokens
    [SYSTEM, {"role": "user", "content": "Write a long story about a dragon who bakes bread."}],
    [SYSTEM, {"role": "user", "content": "Write a long essay about the history of bicycles."}],
    [SYSTEM, {"role": "user", "content": "Describe a long walk through a busy morning market."}],
]


@dataclass(frozen=True)
class Sample:
    """One request, timed from outside."""

    prompt: int  # index into PROMPTS
    tokens: int
    seconds: float
    ttft: float

    @property
    def rate(self) -> float:
        """Completion tokens per second of the whole request."""
        return self.tokens / self.seconds


Runner = Callable[[int], Sample]  # runs PROMPTS[i] once, timed


class FirstToken(BaseStreamer):
    """Notes when model.generate hands over its first new token (its first put is the prompt)."""

    def __init__(self):
        self.puts, self.at = 0, 0.0

    def put(self, value):
        self.puts += 1
        if self.puts == 2:
            self.at = time.perf_counter()

    def end(self):
        pass


def ours(lm, params: GenParams) -> Runner:
    """Our backend for any runtime: `stream` from the app's generation API, read to the end."""

    def run(i: int) -> Sample:
        begin = time.perf_counter()
        s = stream(lm, PROMPTS[i], params)
        setup = time.perf_counter() - begin  # template and tokenizer: counted against us
        for _piece in s:
            pass
        first = setup + (s.result.ttft_s or 0.0)  # measured by each runtime from its start
        return Sample(i, s.result.completion_tokens, time.perf_counter() - begin, first)

    return run


def plain_transformers(lm, new_tokens: int) -> Runner:
    """model.generate on ready prompt ids, as in bench/generation.py."""

    def run(i: int) -> Sample:
        ids = torch.tensor([encode(lm, PROMPTS[i])])
        mark = FirstToken()
        begin = time.perf_counter()
        with torch.inference_mode():
            out = lm.model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=lm.tokenizer.pad_token_id,
                streamer=mark,
            )
        seconds = time.perf_counter() - begin
        return Sample(i, out.shape[1] - ids.shape[1], seconds, mark.at - begin)

    return run


def plain_llamacpp(lm, new_tokens: int) -> Runner:
    """create_completion streamed on the same Llama object, from ready prompt ids."""

    def run(i: int) -> Sample:
        ids = lm.encode(PROMPTS[i])
        begin, first, tokens = time.perf_counter(), 0.0, 0
        pieces = lm.llm.create_completion(
            ids,
            max_tokens=new_tokens,
            temperature=0.0,
            top_k=1,
            stop=list(lm.template_stops),
            stream=True,
        )
        for chunk in pieces:
            choice = chunk["choices"][0]
            tokens += choice["finish_reason"] is None  # one chunk a token, as ours counts
            if choice["text"] and not first:
                first = time.perf_counter() - begin
        return Sample(i, tokens, time.perf_counter() - begin, first)

    return run


def plain_http(client: httpx.Client, endpoint, params: GenParams) -> Runner:
    """A streaming POST of our exact request body on a kept-open client, SSE read to [DONE]."""
    url = f"{endpoint.base_url}/chat/completions"

    def run(i: int) -> Sample:
        body = request_body(endpoint.model, PROMPTS[i], params, stream=True)
        begin, first, chunks, usage = time.perf_counter(), 0.0, 0, 0
        auth = {"Authorization": f"Bearer {local_server.server_key()}"}  # its own key
        with client.stream("POST", url, json=body, headers=auth) as response:
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.read()[:200]!r}")
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                event = json.loads(data)
                usage = (event.get("usage") or {}).get("completion_tokens") or usage
                for choice in event.get("choices") or []:
                    if (choice.get("delta") or {}).get("content"):
                        chunks += 1
                        first = first or time.perf_counter() - begin
        return Sample(i, usage or chunks, time.perf_counter() - begin, first)

    return run


def interleave(plain: Runner, mine: Runner, rounds: int) -> tuple[list[Sample], list[Sample]]:
    """Alternate the two paths while cycling the prompts; each path runs each prompt `rounds`
    times, and no request follows one with the same prompt (no cached-prefix advantage)."""
    plain(1)  # warm-up; the first measured request (prompt 0) then follows prompt 2
    mine(2)
    runs: tuple[list[Sample], list[Sample]] = ([], [])
    for i in range(2 * len(PROMPTS) * rounds):
        runs[i % 2].append((plain, mine)[i % 2](i % len(PROMPTS)))
    return runs


def paired_overhead_ms(plain: list[Sample], mine: list[Sample]) -> float:
    """Median of (ours - plain) seconds over requests of the same prompt in the same round."""
    diffs = []
    for p in range(len(PROMPTS)):
        mine_p = [s.seconds for s in mine if s.prompt == p]
        plain_p = [s.seconds for s in plain if s.prompt == p]
        diffs += [m - r for m, r in zip(mine_p, plain_p)]
    return statistics.median(diffs) * 1000


def client_ms(times: int = 10) -> float:
    """What opening a fresh httpx.Client costs (why our backend keeps one shared client)."""
    spent = []
    for _ in range(times):
        begin = time.perf_counter()
        httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0)).close()
        spent.append(time.perf_counter() - begin)
    return statistics.median(spent) * 1000


@dataclass(frozen=True)
class Row:
    """One line of the table: a path's medians and its ratio to the plain baseline."""

    path: str
    rate: float
    spread: str  # slowest-fastest tokens/s: how noisy the machine was
    ttft_ms: float
    ratio: str


def summarize(path: str, samples: list[Sample], baseline: list[Sample] | None = None) -> Row:
    """Medians of a path, and its tokens/s over the baseline's."""
    rates = [s.rate for s in samples]
    rate, spread = statistics.median(rates), f"{min(rates):.0f}-{max(rates):.0f}"
    ratio = "baseline"
    if baseline:
        ratio = f"{rate / statistics.median(s.rate for s in baseline):.3f}x"
    return Row(path, rate, spread, statistics.median(s.ttft for s in samples) * 1000, ratio)


def free_port() -> int:
    """A port nothing listens on, so a user's own server is never touched."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def transformers_pair(rounds: int) -> list[Row]:
    begin = time.perf_counter()
    lm = load_model(EMBEDDED)
    print(f"transformers: load {time.perf_counter() - begin:.1f} s (first use converts the GGUF)")
    print(f"transformers: {lm.device}, torch {torch.get_num_threads()} threads")
    params = GenParams(max_new_tokens=NEW_TOKENS)
    a, b = interleave(plain_transformers(lm, NEW_TOKENS), ours(lm, params), rounds)
    return [
        summarize("(a) plain `model.generate` (transformers)", a),
        summarize("(b) our transformers backend", b, a),
    ]


def llamacpp_pair(rounds: int, threads: int) -> list[Row]:
    lm = load_llamacpp("embedded", threads=threads)
    print(f"llama.cpp: {lm.runtime}, load {lm.load_seconds:.2f} s")
    params = GenParams(max_new_tokens=NEW_TOKENS)
    c, d = interleave(plain_llamacpp(lm, NEW_TOKENS), ours(lm, params), rounds)
    return [
        summarize("(c) plain llama.cpp `create_completion`", c),
        summarize("(d) our llama.cpp path", d, c),
    ]


def server_pair(rounds: int, threads: int) -> tuple[list[Row], float]:
    """Rows at NEW_TOKENS, and our overhead in ms a request at OVERHEAD_TOKENS."""
    port, begin = free_port(), time.perf_counter()
    try:
        state = local_server.start(port, threads=threads)
        up = time.perf_counter() - begin
        print(f"llama.cpp server: 127.0.0.1:{state.port}, {threads} threads, up in {up:.1f} s")
        endpoint = local_server.endpoint_for(state.port)  # the port it really listens on
        lm = open_endpoint(endpoint, local_server.server_key())
        with httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0)) as client:
            long, short = (
                GenParams(max_new_tokens=NEW_TOKENS),
                GenParams(max_new_tokens=OVERHEAD_TOKENS),
            )
            raw, mine = interleave(plain_http(client, endpoint, long), ours(lm, long), rounds)
            rows = [
                summarize("plain HTTP POST to the llama.cpp server", raw),
                summarize("(e) our OpenAI-compatible backend, same server", mine, raw),
            ]
            raw, mine = interleave(
                plain_http(client, endpoint, short), ours(lm, short), OVERHEAD_ROUNDS
            )
    finally:
        local_server.stop()
    for name, runs in (("plain", raw), ("ours", mine)):
        ms = statistics.median(s.seconds for s in runs) * 1000
        ttft = statistics.median(s.ttft for s in runs) * 1000
        print(f"{OVERHEAD_TOKENS}-token requests, {name}: {ms:.0f} ms, ttft {ttft:.0f} ms")
    return rows, paired_overhead_ms(raw, mine)


def report(rows: list[Row], overhead_ms: float) -> None:
    print("\n| path | tokens/s | range | ttft ms | vs its plain baseline |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row.path} | {row.rate:.1f} | {row.spread} | {row.ttft_ms:.0f} | {row.ratio} |")
    print()
    for mine, plain, name in ((1, 0, "(b) >= 0.95 x (a)"), (3, 2, "(d) >= 0.95 x (c)")):
        ratio = rows[mine].rate / rows[plain].rate
        print(f"goal {name}: {ratio:.3f}  {'PASS' if ratio >= 0.95 else 'MISS'}")
    verdict = "PASS" if overhead_ms < 10 else "MISS"
    print(f"goal (e) adds < 10 ms a request over plain HTTP: {overhead_ms:+.1f} ms  {verdict}")
    print(f"(a fresh httpx.Client would cost {client_ms():.1f} ms a request: ours shares one)")


def timed(label: str, pair: Callable, *args):
    """Run one pair and say how long it took (a busy machine shows here first)."""
    begin = time.perf_counter()
    out = pair(*args)
    print(f"{label} took {time.perf_counter() - begin:.0f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-rounds", type=int, default=2, help="transformers: ~4 s a request")
    parser.add_argument("--fast-rounds", type=int, default=3, help="llama.cpp: ~1 s a request")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp (0: the app's default)")
    args = parser.parse_args()
    threads = args.threads or default_threads()  # the server gets the same, named explicitly
    start = time.perf_counter()
    print(f"{os.cpu_count()} cores, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    slow, fast = len(PROMPTS) * args.slow_rounds, len(PROMPTS) * args.fast_rounds
    print(f"greedy, {NEW_TOKENS} new tokens; medians of {slow} (transformers) or {fast} requests")
    rows = timed("(a)/(b)", transformers_pair, args.slow_rounds)
    rows += timed("(c)/(d)", llamacpp_pair, args.fast_rounds, threads)
    server_rows, overhead = timed("(e)", server_pair, args.fast_rounds, threads)
    report(rows + server_rows, overhead)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
