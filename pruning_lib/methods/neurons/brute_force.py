"""Brute-force neuron scores: the exact change of the error when each hidden neuron goes, all at once.

Wolfe et al. 2017, Sec. "Brute Force Removal Approach": dE_k = E(m with k off) - E(m), one masked forward pass
per candidate (`bf_scores_naive`, the authors' way and the reference). Removing neuron k of hidden layer l
changes only the next pre-activation, by the rank-1 term -h_l[:, k] W_{l+1}[:, k]^T, so `bf_scores` scores every
candidate of a layer at once from cached activations, in chunks of at most `chunk` elements, float32 with
float64 sums. `gain_curve` uses the same trick with (alpha - 1) in place of -1 (the paper's gain plots, Sec.
"Visualization of Error Surface & Pruning Decisions").
"""

from __future__ import annotations

import torch

from .counts import neuron_ids
from .net import SigmoidMLP, activate, checked_masks, error, sample_errors
from .prepared import Prepared

# elements of the (width, candidates, samples) brute-force tensor per chunk: about cache-sized (notebook 04, §5)
DEFAULT_CHUNK = 2**20


def rank1_errors(net, a_next, U, V, upper, Tt, base, chunk):
    """sum_n [E_n(a_next + V[c] U[c]^T) - base_n] for every candidate c (float64), in chunks over samples.

    Feature-major: a_next (w, N) is the next layer's pre-activation; U (C or 1, N) and V (C, w) the rank-1 change
    of each candidate; upper: [(W with its input mask folded in, b)] of the layers above; Tt (n_out, N) the
    targets; base the current errors, (o - t)^2 per element (n_out, N) for SSE or E_n (N,) for cross-entropy, or
    None (absolute errors). Differences are formed per element in float32 (small numbers, little rounding) and
    summed in float64 across chunks. The (w, C, rows) candidate tensor holds at most ~`chunk` elements.
    """
    C, N = V.shape[0], a_next.shape[1]
    widths = [a_next.shape[0]] + [W.shape[0] for W, _ in upper]
    rows = max(1, min(N, chunk // max(1, C * max(widths))))
    bufs = [torch.empty(C * rows * w, dtype=a_next.dtype, device=a_next.device) for w in widths]
    Vt = V.t()[:, :, None]  # (w, C, 1)
    total = torch.zeros(C, dtype=torch.float64, device=a_next.device)
    for s in range(0, N, rows):
        e = min(N, s + rows)
        n = e - s
        Z = torch.addcmul(
            a_next[:, None, s:e], Vt, U[None, :, s:e], out=bufs[0][: widths[0] * C * n].view(-1, C, n)
        )
        for (W, b), buf in zip(upper, bufs[1:]):
            flat = activate(net.activation, Z, inplace=True).view(Z.shape[0], -1)
            Z = torch.addmm(b[:, None], W, flat, out=buf[: W.shape[0] * C * n].view(W.shape[0], -1)).view(
                -1, C, n
            )
        Z = activate(net.out_activation, Z, inplace=True)
        if net.error == "sse":
            Z.sub_(Tt[:, None, s:e]).square_()
            if base is not None:
                Z.sub_(base[:, None, s:e])
            total += 0.5 * Z.sum(0).sum(-1).double()
        else:
            En = torch.logsumexp(Z, 0) - (Z * Tt[:, None, s:e]).sum(0)  # (C, n)
            if base is not None:
                En.sub_(base[None, s:e])
            total += En.sum(-1).double()
    return total


def upper_layers(net: SigmoidMLP, masks, layer: int):
    """(W, b) of the layers above hidden layer `layer`+1, each with its input mask folded into the weight."""
    return [
        (net.layers[j + 1].weight * masks[j].to(net.layers[j + 1].weight), net.layers[j + 1].bias)
        for j in range(layer + 1, len(masks))
    ]


@torch.no_grad()
def bf_scores(net: SigmoidMLP, X, T, masks=None, chunk: int | None = None, prepared: Prepared | None = None):
    """Exact dE_k = E(m with k off) - E(m) for every hidden neuron (0 for removed ones), all at once per layer."""
    masks = checked_masks(net, masks)
    prep = prepared or Prepared(net, X, T)
    a, f, out = prep.run_t(masks)
    base = (out - prep.Tt).square() if net.error == "sse" else sample_errors(net, out.t(), prep.T)
    scores = []
    for layer, m in enumerate(masks):
        s = torch.zeros(len(m), dtype=torch.float64, device=m.device)
        alive = torch.nonzero(m).flatten()
        if len(alive):
            W = net.layers[layer + 1].weight
            U = f[layer] if len(alive) == len(m) else f[layer].index_select(0, alive)  # (|A|, N)
            upper = upper_layers(net, masks, layer)
            s[alive] = rank1_errors(
                net, a[layer + 1], U, -W[:, alive].t(), upper, prep.Tt, base, chunk or DEFAULT_CHUNK
            )
        scores.append(s)
    return scores


@torch.no_grad()
def bf_scores_naive(net: SigmoidMLP, X, T, masks=None):
    """Reference brute force: one full masked forward pass per alive candidate (the authors' method)."""
    masks = checked_masks(net, masks)
    E0 = error(net, X, T, masks)
    scores = []
    for layer, m in enumerate(masks):
        s = torch.zeros(len(m), dtype=torch.float64, device=m.device)
        for k in torch.nonzero(m).flatten().tolist():
            trial = [x.clone() for x in masks]
            trial[layer][k] = False
            s[k] = error(net, X, T, trial) - E0
        scores.append(s)
    return scores


@torch.no_grad()
def gain_curve(net: SigmoidMLP, X, T, masks, neuron, alphas, chunk: int | None = None) -> torch.Tensor:
    """E(alpha) when the output of `neuron` ((layer, index) or global id) is scaled by each alpha (float64)."""
    masks = checked_masks(net, masks)
    layer, k = neuron if isinstance(neuron, tuple) else neuron_ids(net.sizes)[neuron]
    prep = Prepared(net, X, T)
    a, f, _ = prep.run_t(masks)
    W = net.layers[layer + 1].weight
    alphas = torch.as_tensor(alphas, dtype=W.dtype, device=W.device)
    V = (alphas - 1)[:, None] * W[:, k][None, :]  # (n_alpha, w)
    U = (f[layer][k] * masks[layer][k].to(f[layer].dtype))[None, :]  # (1, N): broadcast over the alphas
    upper = upper_layers(net, masks, layer)
    return rank1_errors(net, a[layer + 1], U, V, upper, prep.Tt, None, chunk or DEFAULT_CHUNK)
