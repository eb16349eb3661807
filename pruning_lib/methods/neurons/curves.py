"""One-number summaries of a pruning curve: how many neurons go before the error or the accuracy degrades.

The counts the paper's figures are read with (Wolfe et al. 2017, Sec. "Experimental Results"): neurons removed
before accuracy falls 1 or 5 points, before the SSE has risen 5% of its total rise, or while it stays at its
start. The 5%-of-the-rise count depends on where the curve ends: when the SSE spans several decades (the
cosine nets) a curve two decades above another can still score higher, so `n_sse_ratio` counts on the log
scale the figures use: neurons removed before the SSE first exceeds a fixed multiple of its start.
"""

from __future__ import annotations

import numpy as np


def n_within(acc, drop: float) -> int:
    """Neurons removable before accuracy first falls more than `drop` below acc[0]: (first m >= 1 below) - 1."""
    acc = np.asarray(acc)
    below = np.nonzero(acc[1:] < acc[0] - drop)[0]
    return int(below[0]) if len(below) else len(acc) - 1


def n_sse5(sse) -> int:
    """Neurons before the SSE has risen 5% of its total rise: (first m with SSE(m) > SSE(0) + 5% of
    (SSE(K) - SSE(0))) - 1; K when never."""
    sse = np.asarray(sse)
    above = np.nonzero(sse[1:] > sse[0] + 0.05 * (sse[-1] - sse[0]))[0]
    return int(above[0]) if len(above) else len(sse) - 1


def n_sse_ratio(sse, factor: float = 2.0) -> int:
    """Neurons before the SSE first exceeds `factor` x SSE(0) (a log-ratio threshold): (first such m) - 1."""
    if not factor > 1:
        raise ValueError(f"factor must exceed 1, got {factor}")
    sse = np.asarray(sse)
    above = np.nonzero(sse[1:] > factor * sse[0])[0]
    return int(above[0]) if len(above) else len(sse) - 1


def decades_above(sse, ref) -> float:
    """Median over the removal steps of log10(SSE / SSE_ref): how far one curve lies above another (log axis)."""
    sse, ref = np.asarray(sse, dtype=float), np.asarray(ref, dtype=float)
    if sse.shape != ref.shape:
        raise ValueError(f"curves of different lengths: {sse.shape} and {ref.shape}")
    return float(np.median(np.log10(sse[1:] / ref[1:])))


def n_below_start(sse) -> int:
    """The last m such that SSE(m') <= SSE(0) for every m' <= m."""
    sse = np.asarray(sse)
    above = np.nonzero(sse > sse[0])[0]
    return int(above[0]) - 1 if len(above) else len(sse) - 1


def curve_summary(sse, acc) -> dict:
    """n_1pp, n_5pp, n_sse5 (5% of the total rise) and n_sse2x (SSE below twice its start) of one pair of curves."""
    return {
        "n_1pp": n_within(acc, 0.01),
        "n_5pp": n_within(acc, 0.05),
        "n_sse5": n_sse5(sse),
        "n_sse2x": n_sse_ratio(sse, 2.0),
    }


def share_from_layer(layers, layer: int, first: int) -> float:
    """Fraction of the first `first` removals taken from hidden layer `layer` (0 = first hidden layer)."""
    return float((np.asarray(layers)[:first] == layer).mean())
