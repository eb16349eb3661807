"""One NNrelief pruning call (Dekhovich et al. 2024, Alg. 1-2), with the dead-unit and ResNet skip rules.

Front to back on a fixed pruning set, in eval mode: each layer's units are scored on the layer's input (as it
was before the layer changed), dead units (output 0 on every image; from the authors' code) are removed, the
alpha cut masks the weak candidates; then the backward sweep removes the units nobody reads any more.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...masks import and_mask, get_mask, install_masks, refresh
from ...models import ResNet20
from .network import Plan, conv_forward, plan, resnet_blocks
from .scores import CHUNK_FLOATS, alpha_cut, candidates, conv_scores, fc_scores
from .sweep import backward_sweep
from .units import remove_units


def _dead(H: torch.Tensor) -> torch.Tensor:
    """Units (dim 1) whose output is 0 on every sample and position."""
    return ~(H != 0).transpose(0, 1).flatten(1).any(1)


def _candidate_mask(module) -> torch.Tensor:
    """Which candidates (connections, then the bias) of each unit are unmasked now."""
    m = (
        get_mask(module, "weight").flatten(2).any(2)
        if module.weight.dim() == 4
        else get_mask(module, "weight")
    )
    return m if module.bias is None else torch.cat([m, get_mask(module, "bias")[:, None]], 1)


def _cut_layer(module, C, c_bias, alpha, cut, dead, stats, name, bn=None):
    """Remove the dead units, then apply the alpha cut to the layer's weights and bias; record statistics."""
    before = _candidate_mask(module)
    remove_units(module, dead, bn)
    keep = alpha_cut(candidates(C, c_bias), alpha, cut) & ~dead[:, None]
    w_keep = keep[:, : C.shape[1]]
    if module.weight.dim() == 4:
        w_keep = w_keep[:, :, None, None].expand_as(module.weight)
    and_mask(module, "weight", w_keep)
    if c_bias is not None:
        and_mask(module, "bias", keep[:, -1])
    live = ~dead & before.any(1)
    frac = ((keep & before).sum(1).double() / before.sum(1).clamp(min=1).double())[live]
    stats[name] = {
        "dead": int((dead & before.any(1)).sum()),
        "kept_fraction": float(frac.mean()) if len(frac) else 0.0,
    }


@torch.no_grad()
def prune_step(
    model: nn.Module,
    X: torch.Tensor,
    alpha_conv: float = 0.9,
    alpha_fc: float = 0.95,
    *,
    cut: str = "paper",
    conv_order: str = "mean_of_norm",
    conv_agg: str = "fro",
    dead_rule: bool = True,
    sweep: bool = True,
    chunk: int = CHUNK_FLOATS,
) -> dict:
    """One NNrelief pruning call in place (eval mode, fixed pruning set X); returns per-layer statistics."""
    was_training = model.training
    model.eval()
    install_masks(model)
    X = X.to(next(model.parameters()).device)
    kw = dict(cut=cut, conv_order=conv_order, conv_agg=conv_agg, dead_rule=dead_rule, chunk=chunk)
    if isinstance(model, ResNet20):
        stats = _prune_resnet(model, X, alpha_conv, alpha_fc, **kw)
    else:
        stats = _prune_plain(model, plan(model), X, alpha_conv, alpha_fc, **kw)
    stats["swept"] = backward_sweep(model) if sweep else {}
    refresh(model)
    model.train(was_training)
    return stats


def _conv_cut(L_conv, A, alpha, kw, dead, stats, name, bn=None):
    """Score a conv layer's kernels on its input A and apply the dead-unit removal and the alpha cut."""
    C, cb = conv_scores(
        L_conv.weight,
        L_conv.bias,
        A,
        L_conv.stride,
        L_conv.padding,
        kw["conv_order"],
        kw["conv_agg"],
        kw["chunk"],
    )
    _cut_layer(L_conv, C, cb, alpha, kw["cut"], dead, stats, name, bn)


def _prune_plain(model, p: Plan, X, alpha_conv, alpha_fc, **kw) -> dict:
    """Forward pass of prune_step for LeNets, VGG-like and MLPs: conv stack, then FC stack."""
    stats: dict = {}
    A = X
    for L in p.convs:
        Z = L.conv(A)
        H = F.relu(L.bn(Z) if L.bn is not None else Z)
        dead = _dead(H) if kw["dead_rule"] else torch.zeros(H.shape[1], dtype=torch.bool, device=H.device)
        _conv_cut(L.conv, A, alpha_conv, kw, dead, stats, L.name, L.bn)
        A = L.pool(H) if L.pool is not None else H
    A = conv_forward(p, X) if p.convs else X.flatten(1)  # through the pruned conv stack
    for i, L in enumerate(p.fcs):
        H = L.act(L.fc(A))
        hidden = i < len(p.fcs) - 1
        dead = _dead(H) if (kw["dead_rule"] and hidden) else torch.zeros(H.shape[1], dtype=torch.bool)
        dead = dead.to(H.device)
        C, cb = fc_scores(L.fc.weight, L.fc.bias, A)
        _cut_layer(L.fc, C, cb, alpha_fc, kw["cut"], dead, stats, L.name)
        A = H
    return stats


def _prune_resnet(model: ResNet20, X, alpha_conv, alpha_fc, **kw) -> dict:
    """Forward pass of prune_step for ResNet-20: stem, blocks (with the skip rule on conv2), then the FC layer."""
    stats: dict = {}

    def dead_of(H):
        return _dead(H) if kw["dead_rule"] else torch.zeros(H.shape[1], dtype=torch.bool, device=H.device)

    H = F.relu(model.bn1(model.conv1(X)))
    _conv_cut(model.conv1, X, alpha_conv, kw, dead_of(H), stats, "conv1", model.bn1)
    A = H
    ratio = (1 - alpha_conv) / alpha_conv
    for name, blk in resnet_blocks(model):
        sc = blk.shortcut(A)  # masked shortcut, before this block changes
        H1 = F.relu(blk.bn1(blk.conv1(A)))
        _conv_cut(blk.conv1, A, alpha_conv, kw, dead_of(H1), stats, f"{name}.conv1", blk.bn1)
        B2 = blk.bn2(blk.conv2(H1))
        H2 = F.relu(B2 + sc)
        dead = dead_of(H2)
        blk.shortcut.mask[dead] = 0.0
        _conv_cut(blk.conv2, H1, alpha_conv, kw, dead, stats, f"{name}.conv2", blk.bn2)
        a = B2.abs().mean(0).flatten(1).norm(dim=1)  # skip rule: branch vs shortcut, without division
        r = sc.abs().mean(0).flatten(1).norm(dim=1)
        branch_off, short_off = a < ratio * r, r < ratio * a
        remove_units(blk.conv2, branch_off, blk.bn2)
        blk.shortcut.mask[short_off] = 0.0
        stats[f"{name}.conv2"].update(branch_off=int(branch_off.sum()), shortcut_off=int(short_off.sum()))
        A = H2
    feats = model.features(X)  # through the pruned network
    C, cb = fc_scores(model.linear.weight, model.linear.bias, feats)
    none = torch.zeros(model.linear.out_features, dtype=torch.bool, device=X.device)
    _cut_layer(model.linear, C, cb, alpha_fc, kw["cut"], none, stats, "linear")
    return stats
