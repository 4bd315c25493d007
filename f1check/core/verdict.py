"""The verdict: the one rule that turns reported, f1_seen and f1_all into pass or fail.

Used alike by the examples run through the real loop and by the search's
replayed candidates, so the two can never disagree on what passes, what is
worse, or which failure is the smallest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A tolerance is compared after float64 rounding of the references.
SLACK = 1e-12


@dataclass(frozen=True)
class Verdict:
    """The judged error of one epoch or example, and whether it passes."""

    judged_error: float
    passed: bool

    @property
    def badness(self) -> float:
        return badness(self.judged_error)


def decide(reported: float, f1_seen: float, f1_all: float, judge: str, tolerance: float) -> Verdict:
    """Bound ``reported - f1_seen`` (what the loop fed); with ``judge="total"`` also ``reported - f1_all``.

    The judged error is the larger of the bounded differences; NaN never passes.
    """
    error = reported - f1_seen
    if judge == "total" and not abs(reported - f1_all) <= abs(error):
        error = reported - f1_all
    return Verdict(error, not math.isnan(error) and abs(error) <= tolerance + SLACK)


def badness(judged_error: float) -> float:
    """How wrong a judged error is, NaN counted as worst."""
    return math.inf if math.isnan(judged_error) else abs(judged_error)


def smallest_key(partition) -> tuple[int, int, int]:
    """The order of counterexamples: fewer samples, then fewer batches, then fewer dropped."""
    return partition.n, partition.steps, partition.dropped
