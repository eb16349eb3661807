"""Uncertainty of a reported number, and the verdict of a comparison: better, tie or worse.

One seed: a test accuracy is a binomial proportion over the test images, so its 95% interval is Wilson's.
Three or more seeds: the mean over seeds with a Student-t interval (the seed-to-seed spread includes the
test-set noise). Two intervals that overlap are a tie; "A beats B" needs them to separate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as _scipy_stats

LEVEL = 0.95  # every interval in the suite
VERDICTS = ("better", "tie", "worse")


def wilson(correct: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion correct/n, as fractions in [0, 1]."""
    if n <= 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n > 0, got correct={correct}, n={n}")
    z = _scipy_stats.norm.ppf(0.5 + level / 2)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def t_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """Mean ± Student-t half-width over independent runs (seeds); needs at least 2 values."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        raise ValueError(f"a t-interval needs at least 2 values, got {x.size}")
    half = _scipy_stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def accuracy_interval(accs: Sequence[float], n: int, level: float = LEVEL) -> tuple[float, float]:
    """95% interval of a test accuracy in %: Wilson over n images for one seed, t over seeds for 3 or more.

    With exactly 2 seeds the t-interval (1 degree of freedom) is too wide to be useful, so the interval is the
    Wilson interval of the pooled 2n predictions (each seed's images counted once per seed).
    """
    accs = [float(a) for a in accs]
    if not accs:
        raise ValueError("no accuracies given")
    if len(accs) >= 3:
        low, high = t_interval(accs, level)
        return 100 * low, 100 * high
    correct = round(sum(a * n for a in accs))
    low, high = wilson(correct, n * len(accs), level)
    return 100 * low, 100 * high


def mean_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float] | None:
    """t-interval over seeds of any quantity (weights %, kept count), None for fewer than 2 values."""
    return t_interval(values, level) if len(values) >= 2 else None


def compare(a: Sequence[float], b: Sequence[float], higher_is_better: bool = True) -> str:
    """'better' / 'worse' when interval a lies wholly above / below interval b (flipped if lower is better), else 'tie'."""
    (alo, ahi), (blo, bhi) = a, b
    if alo > bhi:
        return "better" if higher_is_better else "worse"
    if ahi < blo:
        return "worse" if higher_is_better else "better"
    return "tie"


def against_value(interval: Sequence[float], value: float, higher_is_better: bool = True) -> str:
    """Verdict of an interval against a fixed number (a published figure): outside it on one side, or a tie."""
    return compare(interval, (value, value), higher_is_better)


def paired_difference(a_correct, b_correct, level: float = LEVEL) -> tuple[float, float]:
    """95% interval (in pp) of acc(A) − acc(B) on the same test images (paired; normal approximation).

    `a_correct`, `b_correct` are per-image 0/1 (bool) arrays of the two models on the same images.
    """
    a, b = np.asarray(a_correct, dtype=float), np.asarray(b_correct, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two equal, non-empty per-image arrays, got {a.shape} and {b.shape}")
    d = a - b
    z = _scipy_stats.norm.ppf(0.5 + level / 2)
    half = z * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else float("inf")
    return float(100 * (d.mean() - half)), float(100 * (d.mean() + half))
