"""The deploy trade-off in sentences: ratios against fp32, the verdict, the small-slice caution."""

from lifecycle.deploy.measure import VariantReport
from lifecycle.deploy.tradeoff import compare_line, tradeoff, verdict


def report(name, tps, memory, quality, examples=30, error=""):
    return VariantReport(
        name=name,
        disk_bytes=memory,
        memory_bytes=memory,
        ttft_s=0.1,
        tokens_per_s=tps,
        quality={"rougeL": quality},
        quality_key="rougeL",
        examples=examples,
        error=error,
    )


FP32 = report("fp32", 10.0, 400 * 2**20, 0.300)


def test_each_variant_is_stated_against_fp32():
    line = compare_line(report("int8", 17.0, 100 * 2**20, 0.290), FP32)
    assert line == (
        "int8 vs fp32: 1.7x the decode speed, 0.25x the memory, 0.25x the disk size, 1x the "
        "time to first token; rougeL 0.290 (-0.010)."
    )


def test_the_fastest_variant_that_keeps_quality_is_the_pick():
    reports = [FP32, report("bf16", 8.0, 200 * 2**20, 0.301), report("int8", 17.0, 2**27, 0.29)]
    assert verdict(reports).startswith("On these numbers ship int8: the fastest variant (17.0")


def test_a_faster_variant_that_loses_quality_is_named_but_not_picked():
    reports = [FP32, report("int8", 17.0, 2**27, 0.20)]
    text = verdict(reports)
    assert text.startswith("On these numbers ship fp32")
    assert "int8 is faster still (17.0 tokens/s) but loses 0.100 of quality." in text


def test_failures_are_skipped_and_a_small_slice_is_flagged():
    lines = tradeoff([FP32, report("int8", 0, 0, 0, error="no Linear layers"), FP32])
    assert not any(line.startswith("int8") for line in lines)
    small = tradeoff([report("fp32", 10.0, 1, 0.3, examples=5)])
    assert any(line.startswith("Quality comes from 5 examples only") for line in small)
    assert small[-1].startswith("Speeds are medians over the answers, every variant loaded")


def test_a_quality_difference_is_weighed_against_its_noise():
    fp32 = report("fp32", 10.0, 1, 0.30)
    same = [0.3, 0.2, 0.4, 0.3, 0.25, 0.35, 0.3, 0.2, 0.4, 0.3, 0.3, 0.3]
    fp32 = VariantReport(**{**fp32.__dict__, "scores": tuple(same), "quality_range": (0.25, 0.35)})
    noisy = [s + d for s, d in zip(same, [0.1, -0.1] * 6)]
    int8 = VariantReport(**{**fp32.__dict__, "name": "int8", "scores": tuple(noisy)})
    assert compare_line(int8, fp32).endswith(": within noise).")
    worse = VariantReport(**{**int8.__dict__, "scores": tuple(s - 0.1 for s in same)})
    assert compare_line(worse, fp32).endswith(": a real difference).")
    few = VariantReport(**{**int8.__dict__, "scores": tuple(noisy[:3])})
    base = VariantReport(**{**fp32.__dict__, "scores": tuple(same[:3])})
    assert "too few examples to tell, measure at least 10" in compare_line(few, base)
    assert verdict([report("int8", 0, 0, 0, error="x")]).startswith("No variant was measured")
