"""The speed / size / quality trade-off of measured variants, stated in plain sentences."""

from __future__ import annotations

from lifecycle.deploy.measure import VariantReport
from lifecycle.evaluation.stats import MIN_PAIRS, paired_bootstrap

QUALITY_TOLERANCE = 0.02  # a drop of the headline metric this small counts as "kept quality"
FIRM_EXAMPLES = 20  # below this, small quality differences are mostly noise


def _ratio(new: float, old: float) -> str:
    if not new or not old:
        return "n/a"
    return f"{new / old:.2g}x"


def quality_change(report: VariantReport, base: VariantReport) -> str:
    """'rougeL 0.310 (-0.012, 95 % CI -0.041 to +0.015: within noise)'."""
    if not report.quality_key:
        return "quality not measured"
    text = f"{report.quality_key} {report.primary:.3f} ({report.primary - base.primary:+.3f}"
    if len(report.scores) != len(base.scores) or len(report.scores) < 2:
        return text + ")"  # an older record without per-example scores
    diff = paired_bootstrap(list(base.scores), list(report.scores))
    text += f", 95 % CI {diff.low:+.3f} to {diff.high:+.3f}"
    if diff.n < MIN_PAIRS:
        return text + f": too few examples to tell, measure at least {MIN_PAIRS})"
    return text + (": a real difference)" if diff.significant else ": within noise)")


def compare_line(report: VariantReport, base: VariantReport) -> str:
    """'int8 vs fp32: 1.7x the decode speed, 0.3x the memory, ...; rougeL 0.310 (-0.012, ...).'"""
    quality = quality_change(report, base)
    return (
        f"{report.name} vs {base.name}: {_ratio(report.tokens_per_s, base.tokens_per_s)} the "
        f"decode speed, {_ratio(report.memory_bytes, base.memory_bytes)} the memory, "
        f"{_ratio(report.disk_bytes, base.disk_bytes)} the disk size, "
        f"{_ratio(report.ttft_s, base.ttft_s)} the time to first token; {quality}."
    )


def verdict(reports: list[VariantReport], tolerance: float = QUALITY_TOLERANCE) -> str:
    """Which variant to ship on these numbers: the fastest that keeps quality within tolerance."""
    good = [r for r in reports if not r.error and r.tokens_per_s > 0]
    if not good:
        return "No variant was measured successfully: nothing to compare yet."
    best_quality = max(r.primary for r in good)
    kept = [r for r in good if r.primary >= best_quality - tolerance]
    pick = max(kept, key=lambda r: (r.tokens_per_s, -r.memory_bytes))
    fastest = max(good, key=lambda r: r.tokens_per_s)
    text = (
        f"On these numbers ship {pick.name}: the fastest variant ({pick.tokens_per_s:.1f} tokens/s,"
        f" {pick.memory_bytes / 2**20:,.0f} MiB) whose quality is within {tolerance} of the best "
        f"({best_quality:.3f})."
    )
    if fastest is not pick:
        loss = best_quality - fastest.primary
        text += (
            f" {fastest.name} is faster still ({fastest.tokens_per_s:.1f} tokens/s) but loses "
            f"{loss:.3f} of quality."
        )
    return text


def tradeoff(reports: list[VariantReport]) -> list[str]:
    """Each variant against the fp32 baseline, the verdict, and a caution about a small slice."""
    good = [r for r in reports if not r.error]
    base = next((r for r in good if r.name == "fp32"), good[0] if good else None)
    if base is None:
        return [verdict(reports)]
    lines = [compare_line(r, base) for r in good if r is not base]
    lines.append(verdict(reports))
    examples = min((r.examples for r in good), default=0)
    widths = [(r.quality_range[1] - r.quality_range[0]) / 2 for r in good if r.quality_range]
    if widths:
        lines.append(
            f"Quality comes from {examples} examples: each score is known to about "
            f"±{max(widths):.2f} (95 % interval), so smaller differences are noise."
            + (f" Measure at least {MIN_PAIRS} before deciding." if examples < MIN_PAIRS else "")
        )
    elif examples < FIRM_EXAMPLES:
        lines.append(
            f"Quality comes from {examples} examples only: differences of a few hundredths are "
            "within noise, so measure more examples before deciding on quality."
        )
    lines.append(
        "Speeds are medians over the answers, every variant loaded and warmed up first and "
        "measured in interleaved rounds, so the order of measurement does not favour one."
    )
    return lines
