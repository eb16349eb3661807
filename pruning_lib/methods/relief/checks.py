"""Checks of an NNrelief run that can fail, and the per-image evidence its intervals rest on.

`kept_share`: rescored on the network a pruning call saw, every unit left alive must keep at least alpha of
its importance (the paper's cut guarantees it; a wrong mask, a lost mask or a cache mix-up breaks it).
`constant_units`: hidden units with every incoming weight pruned but a surviving bias, still read by the next
layer; they output a constant and are counted as alive. `iteration_margins` and `reload_checks`: the notebook's
checks of a whole run (the alpha share at every iteration; the final model against its reload from the cache).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...masks import get_mask, maskable_tensors
from ...metrics import check_sparsity
from .network import plan
from .scores import candidates, conv_scores, fc_scores
from .units import unit_alive


def _kept_candidates(module: nn.Module) -> torch.Tensor:
    """Unmasked candidates of each unit: its connections (a conv kernel counts once), then its bias."""
    m = get_mask(module, "weight")
    m = m.flatten(2).any(2) if m.dim() == 4 else m
    return m if module.bias is None else torch.cat([m, get_mask(module, "bias")[:, None]], 1)


def _share(C, c_bias, after_module) -> torch.Tensor:
    """Kept importance / total importance of every live unit (a unit with a kept candidate)."""
    cand = candidates(C, c_bias).double()
    kept = _kept_candidates(after_module).to(cand.device)
    share = (cand * kept).sum(1) / cand.sum(1).clamp(min=1e-300)
    return share[kept.any(1)]


@torch.no_grad()
def kept_share(
    before: nn.Module,
    after: nn.Module,
    X: torch.Tensor,
    *,
    conv_order: str = "mean_of_norm",
    conv_agg: str = "fro",
    **_,
) -> dict[str, torch.Tensor]:
    """Per layer, the share of its importance (scored on `before`, as the pruning call did) each live unit of `after` keeps.

    Exact for every layer of an MLP and for the conv layers. The first FC layer behind convs is scored through
    the convs as left after the backward sweep (swept filters feed zeros: its shares can only come out higher);
    the FC layers after it are skipped, because their inputs passed through those swept filters.
    """
    before.eval()
    p, q = plan(before), plan(after)
    out, A = {}, X
    for L, M in zip(p.convs, q.convs):
        C, cb = conv_scores(
            L.conv.weight, L.conv.bias, A, L.conv.stride, L.conv.padding, conv_order, conv_agg
        )
        out[L.name] = _share(C, cb, M.conv)
        Z = L.conv(A)
        A = F.relu(L.bn(Z) if L.bn is not None else Z)
        A = L.pool(A) if L.pool is not None else A
    A = _pruned_convs(p, q, X)  # the FC stack is scored through the convs as this pruning call left them
    for L, M in zip(p.fcs, q.fcs):
        out[L.name] = _share(*fc_scores(L.fc.weight, L.fc.bias, A), M.fc)
        if p.convs:  # later FC inputs depend on filters the sweep removed after scoring: not checked
            break
        A = L.act(L.fc(A))
    return out


def _pruned_convs(p, q, X: torch.Tensor) -> torch.Tensor:
    """X through the conv stack of plan p (weights before retraining) under the masks of plan q, flattened."""
    A = X
    for L, M in zip(p.convs, q.convs):
        c = L.conv
        b = None if c.bias is None else c.bias * get_mask(M.conv, "bias")
        Z = F.conv2d(A, c.weight * get_mask(M.conv), b, c.stride, c.padding, c.dilation, c.groups)
        if L.bn is not None:
            bn = L.bn
            gamma, beta = bn.weight * get_mask(M.bn, "weight"), bn.bias * get_mask(M.bn, "bias")
            Z = F.batch_norm(Z, bn.running_mean, bn.running_var, gamma, beta, False, 0.0, bn.eps)
        A = F.relu(Z)
        A = L.pool(A) if L.pool is not None else A
    return A.flatten(1)


def _readers(module: nn.Module, nxt: nn.Module) -> torch.Tensor:
    """Output units of `module` that the next layer still reads through an unmasked weight."""
    W = get_mask(nxt, "weight")
    if W.dim() == 4:
        return W.transpose(0, 1).flatten(1).any(1)
    if module.weight.dim() == 4:  # conv -> FC: feature = channel * HW + position
        return W.view(W.shape[0], module.out_channels, -1).any(2).any(0)
    return W.any(0)


def constant_units(model: nn.Module) -> dict[str, int]:
    """Per hidden layer: units with no unmasked incoming weight but an unmasked bias that are still read."""
    p = plan(model)
    layers = [(L.name, L.conv) for L in p.convs] + [(L.name, L.fc) for L in p.fcs]
    out = {}
    for (name, m), (_, nxt) in zip(layers[:-1], layers[1:]):
        bias = get_mask(m, "bias") if m.bias is not None else torch.zeros(m.weight.shape[0], dtype=torch.bool)
        out[name] = int((~unit_alive(m) & bias & _readers(m, nxt)).sum())
    return out


def iteration_margins(
    chain: list[nn.Module], X: torch.Tensor, alphas: dict[str, float], **opts
) -> list[float]:
    """Per pruning call (chain[t] -> chain[t + 1]): the smallest kept share minus alpha over every layer's live units."""
    margins = []
    for before, after in zip(chain[:-1], chain[1:]):
        shares = kept_share(before, after, X, **opts)
        margins.append(min(float(v.min()) - alphas[k] for k, v in shares.items() if len(v)))
    return margins


def reload_checks(name: str, final: nn.Module, again: nn.Module, kept: int) -> dict[str, tuple[bool, str]]:
    """A run's final model against `again`, its reload from the cache: {check: (passed, message if it fails)}.

    Both must keep the `kept` weights the last pruning call left (`check_sparsity` raises otherwise); the reload
    must hold its pruned weights at exactly 0 and be bit-identical to `final`.
    """
    check_sparsity(final, kept, f"{name} after fine-tuning")  # raises if a mask was lost
    check_sparsity(again, kept, f"{name} after a reload from the cache")
    zero = all(bool((getattr(m, n)[~get_mask(m, n)] == 0).all()) for m, n in maskable_tensors(again))
    same = all(torch.equal(a, b) for a, b in zip(final.state_dict().values(), again.state_dict().values()))
    return {
        f"{name}: pruned weights exactly 0 after a reload from the cache": (
            zero, f"{name}: a pruned weight is nonzero after reload"),
        f"{name}: reloaded final model identical to the one in memory": (
            same, f"{name}: the cached final model differs from the trained one"),
    }  # fmt: skip
