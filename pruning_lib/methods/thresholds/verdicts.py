"""Per-image correctness and the verdicts of notebook 02's comparisons, by the rules of `pl.stats`.

A test error is reported with its 95% Wilson interval; two models scored on the same images are compared by
the paired interval of their accuracy difference: 'better' / 'worse' only when it excludes 0, else 'tie'.
`Scoreboard` keeps the per-image hits of every model the notebook scores and compares them by these rules.
"""

from __future__ import annotations

import numpy as np
import torch

from ... import stats
from ...train import correct


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


class Scoreboard:
    """Per-image correctness of every scored model on the test and validation splits, keyed (what, net, seed)."""

    def __init__(self, splits, seeds):
        self.splits, self.seeds = splits, list(seeds)
        self.test: dict = {}  # reported: intervals, paired verdicts
        self.val: dict = {}  # what the operating point is chosen on

    def score(self, key, model) -> dict:
        """Validation and test error (%) of `model`; its per-image hits are kept under `key` = (what, net, seed)."""
        self.test[key], self.val[key] = (correct(model, *self.splits.test).numpy(),
                                         correct(model, *self.splits.val).numpy())  # fmt: skip
        return {
            "val_error_pct": 100 * (1 - self.val[key].mean()),
            "error_final_pct": 100 * (1 - self.test[key].mean()),
        }

    def interval(self, what, net) -> list[float]:
        """95% interval (%) of the test error of `what` on `net` (Wilson for one seed, t over 3+ seeds)."""
        return error_interval([self.test[what, net, s] for s in self.seeds])

    def versus(self, a, b, net, hits=None) -> dict:
        """Test (or `hits`') error of a minus b in pp, same images, seeds pooled: value, paired 95% interval, a's verdict."""
        hits = self.test if hits is None else hits
        p = paired(np.concatenate([hits[a, net, s] for s in self.seeds]),
                   np.concatenate([hits[b, net, s] for s in self.seeds]))  # fmt: skip
        return {
            "diff_pp": -p["diff_pp"],
            "interval": [-p["interval"][1], -p["interval"][0]],
            "verdict": p["verdict"],
        }
