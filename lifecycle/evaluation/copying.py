"""How much of an output is copied from its input: ROUGE rewards copying, so it is measured.

A summary that pastes the dialogue shares many words with the reference summary too, and
ROUGE-L cannot tell. Per output: the share of its words inside runs of at least MIN_RUN words
copied from the input (Grusky et al.'s extractive fragments, Newsroom 2018), the longest such
run, and the compression ratio (input words per output word).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

MIN_RUN = 4  # shorter shared runs ("of the model") happen in any honest summary
COPYING = 0.5  # half the output's words pasted from the input: a copy, not a summary
COPY_LEAD = 0.2  # the winner copies this much more than the other: its lead may be copying
MIN_COPIED = 0.3  # ... and a good share of its words are copied
_WORD = re.compile(r"\w+(?:['’]\w+)*")


@dataclass(frozen=True)
class Copying:
    """One output against its input."""

    copied: float  # share of the output's words in runs of MIN_RUN+ words from the input
    longest: int  # words in the longest run copied from the input
    compression: float  # input words per output word (0 for an empty output)


def words(text: str) -> list[str]:
    """Lower-cased words, punctuation and speaker colons dropped."""
    return [w.casefold() for w in _WORD.findall(text or "")]


def fragments(source: list[str], output: list[str]) -> list[int]:
    """Lengths of the greedy longest copied fragments of the output, in order."""
    where: dict[str, list[int]] = defaultdict(list)
    for j, word in enumerate(source):
        where[word].append(j)
    found, i = [], 0
    while i < len(output):
        best = 0
        for j in where.get(output[i], ()):
            k = 0
            while i + k < len(output) and j + k < len(source) and output[i + k] == source[j + k]:
                k += 1
            best = max(best, k)
        if best:
            found.append(best)
        i += max(best, 1)
    return found


def copying(source: str, output: str) -> Copying:
    """How much of `output` is pasted from `source`."""
    src, out = words(source), words(output)
    if not out:
        return Copying(0.0, 0, 0.0)
    runs = [n for n in fragments(src, out) if n >= MIN_RUN]
    return Copying(sum(runs) / len(out), max(runs, default=0), len(src) / len(out))


@dataclass(frozen=True)
class CopySummary:
    """A run's outputs on average: how much is copied, and how much shorter than the input."""

    copied: float
    compression: float
    copies: int  # outputs that are mostly copied (at least COPYING)
    n: int


def summarise(pairs: list[tuple[str, str]]) -> CopySummary:
    """(input, output) pairs summed up."""
    found = [copying(source, output) for source, output in pairs]
    if not found:
        return CopySummary(0.0, 0.0, 0, 0)
    return CopySummary(
        sum(c.copied for c in found) / len(found),
        sum(c.compression for c in found) / len(found),
        sum(c.copied >= COPYING for c in found),
        len(found),
    )


def copy_warning(winner: str, loser: str, won: CopySummary, lost: CopySummary) -> str:
    """A sentence when the winner copies the input much more than the loser ('' otherwise)."""
    if won.copied < MIN_COPIED or won.copied - lost.copied < COPY_LEAD:
        return ""
    return (
        f"{winner} may win by copying: {won.copied:.0%} of its words are pasted from the input "
        f"in runs of {MIN_RUN}+ words ({lost.copied:.0%} for {loser}), at {won.compression:.1f}x "
        f"compression ({lost.compression:.1f}x). ROUGE counts words shared with the reference, "
        "and a copied input shares many: read the outputs before trusting this lead."
    )


def run_copying(predictions: dict[str, dict], inputs: dict[str, str], only=None) -> CopySummary:
    """A run's copying: its predictions against their inputs (`only`: these example ids)."""
    pairs = [
        (inputs[i], p.get("prediction", ""))
        for i, p in predictions.items()
        if i in inputs and (only is None or i in only)
    ]
    return summarise(pairs)
