"""Per-image correctness and the verdicts of notebook 02's comparisons, by the rules of `pl.stats`.

A test error is reported with its 95% Wilson interval; two models scored on the same images are compared by
the paired interval of their accuracy difference: 'better' / 'worse' only when it excludes 0, else 'tie'.
"""

from __future__ import annotations

import numpy as np
import torch

from ... import stats


@torch.no_grad()
def error_interval(hits) -> list[float]:
    """95% interval of an error rate in % from per-image correctness (Wilson; pooled over seeds if several)."""
    runs = [np.asarray(h, dtype=bool) for h in (hits if isinstance(hits, list) else [hits])]
    lo, hi = stats.accuracy_interval([h.mean() for h in runs], len(runs[0]))
    return [100 - hi, 100 - lo]


def paired(a_hits, b_hits) -> dict:
    """acc(A) − acc(B) in pp on the same images: value, 95% paired interval and verdict of A against B."""
    a, b = np.asarray(a_hits, dtype=float), np.asarray(b_hits, dtype=float)
    interval = list(stats.paired_difference(a, b))
    return {"diff_pp": 100 * float(a.mean() - b.mean()), "interval": interval,
            "verdict": stats.against_value(interval, 0.0)}  # fmt: skip


def within(interval, low: float, high: float) -> bool:
    """Whether a whole interval lies inside [low, high] (an equivalence check, stricter than the point value)."""
    return low <= interval[0] and interval[1] <= high
