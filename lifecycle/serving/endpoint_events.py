"""Endpoint answers as events: server-sent-event lines and the shape of chat-completion chunks.

Text in, events out, no socket: the stream parser can be tested (and fuzzed) on its own. Any
answer a server can send ends as text or as an EndpointError, never another exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from lifecycle.models.generation import GenerationResult
from lifecycle.serving.endpoint_http import EndpointError, message_of, short

DONE = object()  # the [DONE] marker
MAX_LINE_CHARS = 1_000_000  # one event line; a real chunk is a few hundred characters
MAX_STREAM_CHARS = 20_000_000  # one answer; far more text than any context window produces
MAX_TOKENS = 10**12  # a usage count above this is not a count
LINE_BREAK = re.compile(r"\r\n|\r|\n")
FINISH = {"stop": "eos", "length": "length"}  # the API's reasons in our words


def sse_events(chunks: Iterable[str], name: str) -> Iterator[Any]:
    """Parsed `data:` events of a stream of text chunks, then DONE at `[DONE]`; size-bounded."""
    pending: list[str] = []  # the start of a line whose end has not arrived
    pending_chars = total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > MAX_STREAM_CHARS:
            raise EndpointError(
                f"{name} sent more than {MAX_STREAM_CHARS:,} characters for one answer: "
                "stopped reading (the text so far is kept)."
            )
        parts = LINE_BREAK.split(chunk)
        lines = ["".join(pending) + parts[0], *parts[1:-1]] if len(parts) > 1 else []
        if lines:
            pending, pending_chars = [], 0
        pending.append(parts[-1])
        pending_chars += len(parts[-1])
        if pending_chars > MAX_LINE_CHARS or any(len(line) > MAX_LINE_CHARS for line in lines):
            raise EndpointError(
                f"{name} sent a stream line over {MAX_LINE_CHARS:,} characters: not a "
                "chat-completion stream (its events are a few hundred characters)."
            )
        for line in lines:
            event = data_event(line, name)
            if event is not None:
                yield event
                if event is DONE:
                    return
    event = data_event("".join(pending), name)  # a last line without a line break
    if event is not None:
        yield event


def data_event(line: str, name: str) -> Any:
    """The JSON of a `data:` line, DONE for `[DONE]`, None for comments and other fields."""
    if not line.startswith("data:"):
        return None  # comments, event names, keep-alives
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as err:  # RecursionError: JSON nested too deep
        raise EndpointError(f"{name} sent a stream event that is not JSON: {data[:120]!r}") from err


def json_event(answer: dict, name: str) -> dict:
    """A non-streamed answer in the shape of one streamed event."""
    if "error" in answer:
        return answer  # apply_event reports it
    choices = answer.get("choices")
    if choices is None or choices == []:
        return {**answer, "choices": []}
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise _shape(name, "choices", choices)
    choice = choices[0]
    message = choice.get("message")
    if message is not None and not isinstance(message, dict):
        raise _shape(name, "message", message)
    content = (message or {}).get("content") or choice.get("text") or ""
    delta = {"delta": {"content": content}, "finish_reason": choice.get("finish_reason")}
    return {**answer, "choices": [delta]}


def apply_event(event: Any, result: GenerationResult, name: str) -> str:
    """Record the event's usage and finish reason in `result`; return its new text."""
    if event is DONE:
        return ""
    if not isinstance(event, dict):
        raise _shape(name, "event", event)
    if "error" in event:
        raise EndpointError(f"The server stopped with an error: {message_of(event['error'])}")
    usage = event.get("usage")
    if usage:  # llama.cpp sends null until the last event
        if not isinstance(usage, dict):
            raise _shape(name, "usage", usage)
        result.prompt_tokens = _count(usage, "prompt_tokens", name) or result.prompt_tokens
        result.completion_tokens = _count(usage, "completion_tokens", name)
        result.counts = "exact"
    choices = event.get("choices")
    if choices is not None and not isinstance(choices, list):
        raise _shape(name, "choices", choices)
    return "".join(_apply_choice(choice, result, name) for choice in choices or [])


def _apply_choice(choice: Any, result: GenerationResult, name: str) -> str:
    if not isinstance(choice, dict):
        raise _shape(name, "choice", choice)
    delta = choice.get("delta") or {}
    if not isinstance(delta, dict):
        raise _shape(name, "delta", delta)
    piece = delta.get("content") or choice.get("text") or ""
    if not isinstance(piece, str):
        raise _shape(name, "content", piece)
    reason = choice.get("finish_reason")
    if reason:
        if not isinstance(reason, str):
            raise _shape(name, "finish_reason", reason)
        result.finish_reason = FINISH.get(reason, reason[:40])
    return piece


def _count(usage: dict, key: str, name: str) -> int:
    value = usage.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS:
        raise _shape(name, f"usage.{key}", value)
    return value


def _shape(name: str, field: str, value: Any) -> EndpointError:
    return EndpointError(
        f"{name} sent an answer of an unexpected shape ({field} is {type(value).__name__}: "
        f"{short(value, 80)}): is it an OpenAI-compatible chat-completions API?"
    )
