"""Serving what-if: from tokens per second and traffic to machines needed and cost per request."""

from __future__ import annotations

import math
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400


class WhatIfError(ValueError):
    """Inputs no deployment can have; the message names the field."""


@dataclass(frozen=True)
class Traffic:
    """The load to serve and what a machine costs."""

    requests_per_day: float = 10_000.0
    prompt_tokens: int = 300  # read per request (prefill)
    completion_tokens: int = 100  # written per request (decode: the slow part)
    peak_factor: float = 3.0  # busiest hour / average hour: capacity is sized for the peak
    cost_per_hour: float = 1.0  # one machine, in your currency
    prefill_tokens_per_s: float = 0.0  # 0 = count prompt tokens at the decode rate (pessimistic)

    def check(self) -> None:
        """Refuse impossible inputs, naming the field."""
        if not self.requests_per_day > 0:
            raise WhatIfError("Requests per day must be more than 0.")
        if self.completion_tokens < 1:
            raise WhatIfError("Each request writes at least 1 completion token.")
        if self.prompt_tokens < 0:
            raise WhatIfError("Prompt tokens cannot be negative.")
        if self.peak_factor < 1:
            raise WhatIfError("The peak factor is at least 1 (the peak is never below average).")
        if self.cost_per_hour < 0:
            raise WhatIfError("The cost per machine-hour cannot be negative.")
        if self.prefill_tokens_per_s < 0:
            raise WhatIfError("Prompt tokens per second cannot be negative (0 = unknown).")


@dataclass(frozen=True)
class WhatIf:
    """Machines and money for one throughput figure."""

    tokens_per_s: float
    seconds_per_request: float  # machine time one request takes
    requests_per_s_per_machine: float
    peak_requests_per_s: float
    machines: int
    utilisation: float  # average share of the machines' time spent serving (0-1)
    peak_utilisation: float
    cost_per_day: float
    cost_per_1000: float


def what_if(tokens_per_s: float, traffic: Traffic) -> WhatIf:
    """Machines for the peak (at least one), with cost spread over the day's requests.

    A machine is assumed to serve one request at a time at `tokens_per_s`; a batching server on
    a GPU serves many at once, so enter its aggregate throughput rather than a single stream's.
    """
    traffic.check()
    if not tokens_per_s > 0:
        raise WhatIfError("Tokens per second must be more than 0: measure a variant or enter one.")
    prefill = traffic.prefill_tokens_per_s or tokens_per_s
    seconds = traffic.completion_tokens / tokens_per_s + traffic.prompt_tokens / prefill
    average_rps = traffic.requests_per_day / SECONDS_PER_DAY
    peak_rps = average_rps * traffic.peak_factor
    machines = max(1, math.ceil(peak_rps * seconds - 1e-9))  # tolerance: 4.0000001 is 4
    cost_per_day = machines * 24 * traffic.cost_per_hour
    return WhatIf(
        tokens_per_s=tokens_per_s,
        seconds_per_request=seconds,
        requests_per_s_per_machine=1 / seconds,
        peak_requests_per_s=peak_rps,
        machines=machines,
        utilisation=average_rps * seconds / machines,
        peak_utilisation=peak_rps * seconds / machines,
        cost_per_day=cost_per_day,
        cost_per_1000=cost_per_day / traffic.requests_per_day * 1000,
    )


def compare(throughputs: dict[str, float], traffic: Traffic) -> dict[str, WhatIf]:
    """The what-if for each named throughput (e.g. each measured variant); zeros are skipped."""
    traffic.check()
    return {name: what_if(tps, traffic) for name, tps in throughputs.items() if tps > 0}
