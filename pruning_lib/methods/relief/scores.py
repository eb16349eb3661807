"""NNrelief's importance scores and the per-unit alpha cut (Dekhovich et al. 2024, Sec. 3, Alg. 1-2).

A unit (FC neuron or conv filter) scores each incoming connection (a weight, or a whole r x r kernel) by the
mean absolute signal it carries on the pruning set, plus its bias as one more candidate, and keeps the
smallest set of strongest candidates that holds a fraction alpha of the unit's total.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CHUNK_FLOATS = 2**24  # the grouped-conv score tensor is computed in chunks of at most this many floats
CUTS = ("paper", "code")
CONV_ORDERS = ("mean_of_norm", "norm_of_mean")
CONV_AGGS = ("fro", "l1")


def fc_scores(W: torch.Tensor, b: torch.Tensor | None, A: torch.Tensor):
    """(C, c_bias): c_ji = mean_n |W_ji a_ni| = |W_ji| mean_n |a_ni|, and |b_j| (None for a bias-free layer)."""
    C = W.abs() * A.abs().mean(0)[None, :]
    return C, (None if b is None else b.abs())


def conv_scores(
    K: torch.Tensor,
    b: torch.Tensor | None,
    A: torch.Tensor,
    stride=1,
    padding=0,
    order: str = "mean_of_norm",
    agg: str = "fro",
    chunk: int = CHUNK_FLOATS,
):
    """(C, c_bias) of a conv layer: C[j, i] = mean_n || |K_ji| * |a_n,i| || over the output map (grouped conv).

    order="norm_of_mean" applies the conv once to mean_n |A| (the authors' code for VGG/ResNet); agg="l1" sums
    the map instead of its Frobenius norm (their LeNet-5 code). The bias term is |b_j| sqrt(H'W') (fro) or
    |b_j| H'W' (l1); None for a bias-free conv.
    """
    if order not in CONV_ORDERS or agg not in CONV_AGGS:
        raise ValueError(f"order must be one of {CONV_ORDERS} and agg one of {CONV_AGGS}")
    c_out, c_in = K.shape[:2]
    G = K.abs().transpose(0, 1).reshape(c_in * c_out, 1, *K.shape[2:])
    absA = A.abs()
    if order == "norm_of_mean":
        absA = absA.mean(0, keepdim=True)
    n = absA.shape[0]
    total = torch.zeros(c_in, c_out, dtype=torch.float64, device=K.device)
    per_sample, step, positions = None, 1, 1
    i = 0
    while i < n:
        M = F.conv2d(absA[i : i + step], G, stride=stride, padding=padding, groups=c_in)
        positions = M.shape[-2] * M.shape[-1]
        M = M.view(M.shape[0], c_in, c_out, positions)
        v = M.norm(dim=-1) if agg == "fro" else M.sum(-1)
        total += v.sum(0, dtype=torch.float64)
        i += M.shape[0]
        if per_sample is None:  # the first sample sizes the chunks
            per_sample = c_in * c_out * positions
            step = max(1, chunk // per_sample)
    C = (total / n).T.to(K.dtype).contiguous()
    if b is None:
        return C, None
    scale = positions**0.5 if agg == "fro" else positions
    return C, b.abs() * scale


def candidates(C: torch.Tensor, c_bias: torch.Tensor | None) -> torch.Tensor:
    """The (units x candidates) matrix: incoming connections, then the bias as the last column when there is one."""
    return C if c_bias is None else torch.cat([C, c_bias[:, None]], 1)


def cut_index(c: torch.Tensor, alpha: float):
    """(sorted desc, k): k = 0-based position of the first sorted prefix whose float64 sum reaches alpha x total."""
    srt = c.double().sort(dim=1, descending=True).values
    cs = srt.cumsum(1)
    k = (cs < alpha * cs[:, -1:]).sum(1, keepdim=True).clamp(max=c.shape[1] - 1)
    return srt, k


def alpha_cut(c: torch.Tensor, alpha: float, cut: str = "paper") -> torch.Tensor:
    """Keep-mask of each row's candidates: the smallest strongest set holding alpha of the row's total (Alg. 1-2).

    cut="paper" keeps c >= c_hat[p0] (ties at the threshold kept); cut="code" keeps c > c_hat[min(p0, n-1)]
    (0-based p0 = k + 1, as in the authors' code). A row whose total is 0 keeps nothing.
    """
    if cut not in CUTS:
        raise ValueError(f"cut={cut!r} is not one of {CUTS}")
    if c.shape[1] == 0:
        return torch.zeros_like(c, dtype=torch.bool)
    srt, k = cut_index(c, alpha)
    if cut == "paper":
        keep = c.double() >= srt.gather(1, k)
    else:
        keep = c.double() > srt.gather(1, (k + 1).clamp(max=c.shape[1] - 1))
    return keep & (srt[:, :1] > 0)


def kept_count(c: torch.Tensor, alpha: float) -> torch.Tensor:
    """p0 per row: the number of candidates in the minimal prefix (0 for an all-zero row)."""
    srt, k = cut_index(c, alpha)
    return torch.where(srt[:, 0] > 0, k[:, 0] + 1, torch.zeros_like(k[:, 0]))
