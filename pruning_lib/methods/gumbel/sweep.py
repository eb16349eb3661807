"""The lambda sweep's rules (notebook 01): the refinement lambda, and the headline run chosen on validation.

Both rules read only the gates (kept counts) and the validation split, never the test split.
"""

from __future__ import annotations

import math


def round_sig(x: float, digits: int = 2) -> float:
    """`x` rounded to `digits` significant digits (68.04 -> 68.0, 0.3162 -> 0.32)."""
    if x == 0:
        return 0.0
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def refine_lambda(
    kept: dict[float, int], budget: int, *, aim: float = 0.9, near: float = 0.8, step: float = math.sqrt(10)
) -> float | None:
    """The next lambda so that a run lands near `budget` kept weights, or None when one already does.

    None if the smallest lambda within the budget keeps at least `near` x budget. Otherwise the lambda at which
    log(kept) against log(lambda), interpolated between that run and the next smaller lambda, reaches
    `aim` x budget; `step` x the largest lambda when no run is within the budget, the smallest / `step` when
    no smaller lambda brackets it. Rounded to 2 significant digits.
    """
    lams = sorted(kept)
    within = [lam for lam in lams if kept[lam] <= budget]
    if not within:
        return round_sig(lams[-1] * step)
    hi = within[0]
    if kept[hi] >= near * budget:
        return None
    lower = [lam for lam in lams if lam < hi]
    if not lower:
        return round_sig(hi / step)
    lo = lower[-1]
    if kept[lo] <= kept[hi] or kept[hi] <= 0:  # not monotone: fall back on the geometric mean
        return round_sig(math.sqrt(lo * hi))
    t = (math.log(kept[lo]) - math.log(aim * budget)) / (math.log(kept[lo]) - math.log(kept[hi]))
    return round_sig(math.exp(math.log(lo) + t * (math.log(hi) - math.log(lo))))


def headline_lambda(kept: dict[float, int], val_acc: dict[float, float], budget: int) -> float:
    """The headline lambda: best validation accuracy among the runs within `budget`, else the sparsest run."""
    within = [lam for lam in kept if kept[lam] <= budget]
    if not within:
        return min(kept, key=lambda lam: (kept[lam], lam))
    return max(within, key=lambda lam: (val_acc[lam], -lam))
