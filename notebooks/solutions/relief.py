"""Reference answers to the exercises of notebook 03 (NNrelief). Try them yourself first."""

import torch


def relief_scores(W, b, A):
    """(units x (inputs + 1)) contributions c_ji = mean_n |W_ji a_ni|, then the bias |b_j| as the last column."""
    C = (W[None, :, :] * A[:, None, :]).abs().mean(0)  # per image |w a|, then the mean over the images
    return torch.cat([C, b.abs()[:, None]], 1)


def keep_rule(c, alpha):
    """Per row: keep the smallest set of strongest candidates whose sum reaches alpha of the row's total."""
    keep = torch.zeros_like(c, dtype=torch.bool)
    for j, row in enumerate(c.double()):
        total = float(row.sum())
        if total == 0:
            continue  # a unit with no importance keeps nothing
        srt = row.sort(descending=True).values
        p0 = int((srt.cumsum(0) < alpha * total).sum())  # items before the prefix reaches alpha
        threshold = srt[min(p0, len(srt) - 1)]
        keep[j] = row >= threshold  # ties with the last kept item are kept too
    return keep


def dead_units(H):
    """One flag per unit (columns of H, outputs after the ReLU): True where the output is 0 on every image."""
    return (H == 0).all(0)


prediction = "more"
