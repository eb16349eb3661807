"""NNrelief (Dekhovich et al. 2024): activity-based connection importance, the per-unit alpha cut, iterative pruning.

A unit (FC neuron or conv filter) scores each incoming connection (a weight, or a whole r x r kernel) by the mean
absolute signal it carries on a fixed pruning set, plus its bias as one more candidate, and keeps the smallest
set of strongest candidates that holds a fraction alpha of the unit's total. A dead-unit rule, a backward sweep
of orphaned units and (ResNet) a skip-connection rule come from the authors' code. Masks live in
torch.nn.utils.prune (weights, biases, BatchNorm gamma/beta); ResNet shortcut gates are the `shortcut.mask` buffer.
The spec is shared/papers/relief.md; section numbers below refer to it.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from .. import cache
from ..cache import fingerprint
from ..models import MLP, LeNet5, LeNet300100, ResNet20, VGGLike
from ..train import evaluate, fit, progress

VERSION = 1  # bump when a code change alters pruning or retraining results (invalidates cached runs)
CHUNK_FLOATS = 2**24  # the grouped-conv score tensor is computed in chunks of at most this many floats
CUTS = ("paper", "code")
CONV_ORDERS = ("mean_of_norm", "norm_of_mean")
CONV_AGGS = ("fro", "l1")
VARIANTS = ("paper", "code")
OPTIMIZERS = ("adam", "sgd")


# --- importance scores (section 2) -------------------------------------------------------------------------


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

    order="norm_of_mean" applies the conv once to mean_n |A|; agg="l1" sums the map instead of its Frobenius
    norm. The bias term is |b_j| sqrt(H'W') (fro) or |b_j| H'W' (l1); None for a bias-free conv.
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
    """Keep-mask of each row's candidates: the smallest strongest set holding alpha of the row's total.

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


# --- masks on any parameter (torch.nn.utils.prune) ---------------------------------------------------------


def get_mask(module: nn.Module, name: str = "weight") -> torch.Tensor:
    """Boolean keep-mask of `module.<name>` (all True when it carries no prune mask)."""
    mask = getattr(module, f"{name}_mask", None)
    if mask is not None:
        return mask.bool()
    return torch.ones_like(getattr(module, name), dtype=torch.bool)


def set_mask(module: nn.Module, name: str, keep: torch.Tensor) -> None:
    """AND `keep` into the prune mask of `module.<name>` (installing one if needed); the effective tensor updates."""
    keep = keep.to(getattr(module, name).device)
    mask = getattr(module, f"{name}_mask", None)
    if mask is None:
        prune.custom_from_mask(module, name, keep)
        return
    mask.mul_(keep.to(mask.dtype))
    with torch.no_grad():
        setattr(module, name, getattr(module, f"{name}_orig") * mask)


def maskable(model: nn.Module):
    """(module, parameter name) of every Linear/Conv2d weight and bias and every BatchNorm gamma and beta."""
    out = []
    for m in model.modules():
        if isinstance(m, nn.Linear | nn.Conv2d | nn.BatchNorm2d):
            out += [(m, n) for n in ("weight", "bias") if getattr(m, n, None) is not None]
    return out


def install_masks(model: nn.Module) -> nn.Module:
    """Give every maskable parameter an (all-ones) prune mask, so pruned models share one state-dict layout."""
    for m, n in maskable(model):
        if getattr(m, f"{n}_mask", None) is None:
            prune.custom_from_mask(m, n, torch.ones_like(getattr(m, n), dtype=torch.bool))
    return model


def refresh(model: nn.Module) -> nn.Module:
    """Recompute every effective (masked) tensor from `*_orig` x `*_mask` (after load_state_dict or in-place edits)."""
    with torch.no_grad():
        for m in model.modules():
            for hook in m._forward_pre_hooks.values():
                if isinstance(hook, prune.BasePruningMethod):
                    hook(m, None)
    return model


def export_state(model: nn.Module) -> dict:
    """The full state dict (raw weights, masks, buffers) of a model pruned by this module, for the cache."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {"state": {k: v.bool() if k.endswith("_mask") else v for k, v in state.items()}}  # masks: 1 byte


def load_state(model: nn.Module, payload: dict) -> nn.Module:
    """Load `export_state` output into a fresh model of the same architecture (masks installed first)."""
    install_masks(model)
    model.load_state_dict(payload["state"])
    return refresh(model)


def remove_units(module: nn.Module, units: torch.Tensor, bn: nn.BatchNorm2d | None = None) -> None:
    """Remove output units (bool vector): their incoming weights, bias and BN gamma, beta (running stats 0 / 1)."""
    if not bool(units.any()):
        return
    keep = ~units
    set_mask(module, "weight", keep.view(-1, *[1] * (module.weight.dim() - 1)).expand_as(module.weight))
    if module.bias is not None:
        set_mask(module, "bias", keep)
    if bn is not None:
        set_mask(bn, "weight", keep)
        set_mask(bn, "bias", keep)
        bn.running_mean[units] = 0.0
        bn.running_var[units] = 1.0


def unit_alive(module: nn.Module) -> torch.Tensor:
    """Output units with at least one unmasked incoming weight (FC row / conv filter)."""
    return get_mask(module, "weight").flatten(1).any(1)


# --- the network as NNrelief sees it -----------------------------------------------------------------------


@dataclass
class ConvLayer:
    """A conv layer with its BatchNorm (or None) and the pool that follows its ReLU (or None)."""

    name: str
    conv: nn.Conv2d
    bn: nn.BatchNorm2d | None = None
    pool: nn.Module | None = None


@dataclass
class FCLayer:
    """A Linear layer and the activation after it (ReLU for hidden layers, identity at the output)."""

    name: str
    fc: nn.Linear
    act: Any = None


@dataclass
class Plan:
    """Conv stack then FC stack, in forward order, plus the input shape of one example."""

    convs: list[ConvLayer] = field(default_factory=list)
    fcs: list[FCLayer] = field(default_factory=list)
    input_shape: tuple = ()


def _relu(x):
    return F.relu(x)


def _identity(x):
    return x


def plan(model: nn.Module) -> Plan:
    """The conv/FC plan of LeNet-300-100, LeNet-5, VGG-like or an MLP (ResNet-20 has its own code path)."""
    if isinstance(model, LeNet300100):
        fcs = [FCLayer("fc1", model.fc1, _relu), FCLayer("fc2", model.fc2, _relu)]
        return Plan([], fcs + [FCLayer("fc3", model.fc3, _identity)], (1, 28, 28))
    if isinstance(model, LeNet5):
        convs = [ConvLayer("conv1", model.conv1, None, nn.MaxPool2d(2))]
        convs.append(ConvLayer("conv2", model.conv2, None, nn.MaxPool2d(2)))
        fcs = [FCLayer("fc1", model.fc1, _relu), FCLayer("fc2", model.fc2, _identity)]
        return Plan(convs, fcs, (1, 28, 28))
    if isinstance(model, VGGLike):
        convs: list[ConvLayer] = []
        for i, m in enumerate(model.features):
            if isinstance(m, nn.Conv2d):
                convs.append(ConvLayer(f"features.{i}", m))
            elif isinstance(m, nn.BatchNorm2d):
                convs[-1].bn = m
            elif isinstance(m, nn.MaxPool2d):
                convs[-1].pool = m
        linears = [(f"classifier.{i}", m) for i, m in enumerate(model.classifier) if isinstance(m, nn.Linear)]
        fcs = [FCLayer(n, m, _relu) for n, m in linears[:-1]] + [FCLayer(*linears[-1], _identity)]
        return Plan(convs, fcs, (model.features[0].in_channels, 32, 32))
    if isinstance(model, MLP):
        mods = list(model.named_children())
        fcs = [FCLayer(n, m, mods[i + 1][1]) for i, (n, m) in enumerate(mods) if isinstance(m, nn.Linear)]
        return Plan([], fcs, (fcs[0].fc.in_features,))
    raise TypeError(f"NNrelief has no plan for {type(model).__name__}")


def conv_forward(p: Plan, X: torch.Tensor) -> torch.Tensor:
    """X through the plan's conv stack (conv, BN, ReLU, pool), flattened; X itself when there are no convs."""
    A = X
    for L in p.convs:
        A = F.relu(L.bn(L.conv(A)) if L.bn is not None else L.conv(A))
        A = L.pool(A) if L.pool is not None else A
    return A.flatten(1)


def variant_options(variant: str, model: nn.Module) -> dict:
    """cut / conv_order / conv_agg of a variant: "paper" (the equations) or "code" (the authors' code, section 4)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is not one of {VARIANTS}")
    if variant == "paper":
        return {"cut": "paper", "conv_order": "mean_of_norm", "conv_agg": "fro"}
    if isinstance(model, VGGLike | ResNet20):
        return {"cut": "code", "conv_order": "norm_of_mean", "conv_agg": "fro"}
    return {"cut": "code", "conv_order": "mean_of_norm", "conv_agg": "l1"}


# --- one pruning call (section 2) --------------------------------------------------------------------------


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
    set_mask(module, "weight", w_keep)
    if c_bias is not None:
        set_mask(module, "bias", keep[:, -1])
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


def resnet_blocks(model: ResNet20) -> list[tuple[str, nn.Module]]:
    """(qualified name, block) of every basic block, in forward order."""
    return [(f"{s}.{i}", b) for s in ("layer1", "layer2", "layer3") for i, b in enumerate(getattr(model, s))]


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


# --- backward sweep (section 2) ----------------------------------------------------------------------------


def _count_new(module, units) -> int:
    """How many of `units` still had an unmasked weight (i.e. are removed now)."""
    return int((units & unit_alive(module)).sum())


@torch.no_grad()
def backward_sweep(model: nn.Module) -> dict:
    """Remove units nobody reads any more, from the output back to the input; returns removals per layer."""
    if isinstance(model, ResNet20):
        return _sweep_resnet(model)
    p = plan(model)
    removed: dict[str, int] = {}
    for h in range(len(p.fcs) - 1, 0, -1):
        orphan = ~get_mask(p.fcs[h].fc).any(0)
        removed[p.fcs[h - 1].name] = _count_new(p.fcs[h - 1].fc, orphan)
        remove_units(p.fcs[h - 1].fc, orphan)
    if p.convs:
        last = p.convs[-1]
        W = get_mask(p.fcs[0].fc)
        orphan = ~W.view(W.shape[0], last.conv.out_channels, -1).any(2).any(0)  # feature = c * HW + pos
        removed[last.name] = _count_new(last.conv, orphan)
        remove_units(last.conv, orphan, last.bn)
        for h in range(len(p.convs) - 1, 0, -1):
            orphan = ~get_mask(p.convs[h].conv).transpose(0, 1).flatten(1).any(1)
            prev = p.convs[h - 1]
            removed[prev.name] = _count_new(prev.conv, orphan)
            remove_units(prev.conv, orphan, prev.bn)
    return removed


def _sweep_resnet(model: ResNet20) -> dict:
    """ResNet backward sweep: a block-input channel goes only if no conv1 kernel reads it and its shortcut is off."""
    removed: dict[str, int] = {}
    orphan = ~get_mask(model.linear).any(0)
    for name, blk in reversed(resnet_blocks(model)):
        removed[f"{name}.conv2"] = _count_new(blk.conv2, orphan)
        remove_units(blk.conv2, orphan, blk.bn2)
        blk.shortcut.mask[orphan] = 0.0
        orphan1 = ~get_mask(blk.conv2).transpose(0, 1).flatten(1).any(1)
        removed[f"{name}.conv1"] = _count_new(blk.conv1, orphan1)
        remove_units(blk.conv1, orphan1, blk.bn1)
        unread = ~get_mask(blk.conv1).transpose(0, 1).flatten(1).any(1)
        s = blk.shortcut
        window = s.mask[s.pad : s.pad + blk.conv1.in_channels]
        orphan = unread & (window == 0)
    removed["conv1"] = _count_new(model.conv1, orphan)
    remove_units(model.conv1, orphan, model.bn1)
    return removed


# --- metrics (section 2, "Metrics") ------------------------------------------------------------------------


def input_shape(model: nn.Module) -> tuple:
    """The shape of one input example of a supported network."""
    return (3, 32, 32) if isinstance(model, ResNet20) else plan(model).input_shape


@torch.no_grad()
def output_maps(model: nn.Module) -> dict[str, int]:
    """H' x W' of every Conv2d output (one example, eval mode), by qualified name."""
    sizes: dict[str, int] = {}
    hooks = [
        m.register_forward_hook(lambda mod, i, o, n=n: sizes.__setitem__(n, o.shape[-2] * o.shape[-1]))
        for n, m in model.named_modules()
        if isinstance(m, nn.Conv2d)
    ]
    was = model.training
    model.eval()
    try:
        p = next(model.parameters())
        model(torch.zeros(1, *input_shape(model), device=p.device, dtype=p.dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was)
    return sizes


def layers(model: nn.Module) -> dict[str, nn.Module]:
    """The conv and FC layers (qualified name -> module) whose weights and biases NNrelief counts."""
    return {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear | nn.Conv2d)}


def remaining(model: nn.Module) -> dict:
    """Unmasked / total over conv+FC weights and biases (BN and shortcut masks not counted), both conventions."""
    w = wn = b = bn = 0
    per_layer = {}
    for name, m in layers(model).items():
        mw = get_mask(m, "weight")
        w, wn = w + mw.numel(), wn + int(mw.sum())
        per_layer[name] = 100.0 * int(mw.sum()) / mw.numel()
        if m.bias is not None:
            mb = get_mask(m, "bias")
            b, bn = b + mb.numel(), bn + int(mb.sum())
    return {
        "params": w + b,
        "params_unmasked": wn + bn,
        "params_pct": 100.0 * (wn + bn) / (w + b),
        "cr_params": (w + b) / max(wn + bn, 1),
        "weights": w,
        "weights_unmasked": wn,
        "weights_pct": 100.0 * wn / w,
        "cr_weights": w / max(wn, 1),
        "layer_weights_pct": per_layer,
    }


def alive_units(model: nn.Module) -> dict[str, tuple[int, int]]:
    """The code's "architecture": alive conv filters and, per FC layer, input units with an unmasked weight."""
    if isinstance(model, ResNet20):
        out = {"conv1": (int(unit_alive(model.conv1).sum()), model.conv1.out_channels)}
        for name, blk in resnet_blocks(model):
            out[f"{name}.conv1"] = (int(unit_alive(blk.conv1).sum()), blk.conv1.out_channels)
            on = unit_alive(blk.conv2) | (blk.shortcut.mask != 0)
            out[f"{name}.out"] = (int(on.sum()), blk.conv2.out_channels)
        out["linear.in"] = (int(get_mask(model.linear).any(0).sum()), model.linear.in_features)
        return out
    p = plan(model)
    out = {L.name: (int(unit_alive(L.conv).sum()), L.conv.out_channels) for L in p.convs}
    for L in p.fcs:
        out[f"{L.name}.in"] = (int(get_mask(L.fc).any(0).sum()), L.fc.in_features)
    return out


def structured_flops(model: nn.Module, maps: dict[str, int] | None = None) -> int:
    """FLOPs of the network shrunk to its alive units (the authors' formula; section 2)."""
    maps = maps or output_maps(model)
    alive = alive_units(model)
    if isinstance(model, ResNet20):
        k2 = 9
        n_in = model.conv1.in_channels
        n_out = alive["conv1"][0]
        total = (2 * maps["conv1"] * n_in * k2 - 1) * n_out
        n_in = n_out
        for name, blk in resnet_blocks(model):
            mid = alive[f"{name}.conv1"][0]
            out = alive[f"{name}.out"][0]
            total += (2 * maps[f"{name}.conv1"] * n_in * k2 - 1) * mid
            total += (2 * maps[f"{name}.conv2"] * mid * k2 - 1) * out
            total += maps[f"{name}.conv2"] * int((blk.shortcut.mask != 0).sum())
            n_in = out
        return int(total + (2 * alive["linear.in"][0] - 1) * model.linear.out_features)
    p = plan(model)
    total, n_in = 0, p.input_shape[0] if p.convs else None
    for L in p.convs:
        n_out = alive[L.name][0]
        k2 = L.conv.kernel_size[0] * L.conv.kernel_size[1]
        total += 2 * maps[L.name] * (n_in * k2 + 1) * n_out
        n_in = n_out
    widths = [alive[f"{L.name}.in"][0] for L in p.fcs] + [p.fcs[-1].fc.out_features]
    total += sum((2 * a - 1) * b for a, b in zip(widths[:-1], widths[1:]))
    return int(total)


def theoretical_flops(model: nn.Module, maps: dict[str, int] | None = None) -> int:
    """Unstructured FLOPs: 2 x unmasked weights x H'W' per conv, 2 x unmasked weights per FC."""
    maps = maps or output_maps(model)
    total = 0
    for name, m in layers(model).items():
        total += 2 * int(get_mask(m).sum()) * (maps[name] if isinstance(m, nn.Conv2d) else 1)
    return int(total)


def summary(model: nn.Module, maps: dict[str, int] | None = None) -> dict:
    """Remaining %, CR, alive units and FLOPs of a (pruned) network in one flat dict."""
    maps = maps or output_maps(model)
    r = remaining(model)
    out = {k: v for k, v in r.items() if k != "layer_weights_pct"}
    out.update({f"{n}_pct": v for n, v in r["layer_weights_pct"].items()})
    out.update({f"{n}_alive": a for n, (a, _) in alive_units(model).items()})
    out["flops_structured"] = structured_flops(model, maps)
    out["flops_theoretical"] = theoretical_flops(model, maps)
    return out


# --- models, data and the iterative loop (section 2, "Iterative loop") -------------------------------------


def kaiming_init(model: nn.Module, seed: int) -> nn.Module:
    """The authors' init: kaiming_normal_ on Linear/Conv2d weights (seeded), PyTorch default biases."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                m.weight.copy_(nn.init.kaiming_normal_(torch.empty_like(m.weight, device="cpu"), generator=g))
    return model


def theta0(name: str, seed: int, **kwargs) -> nn.Module:
    """A fresh network with the authors' seeded init (default biases drawn after torch.manual_seed(seed))."""
    from ..models import build_model

    torch.manual_seed(seed)
    return kaiming_init(build_model(name, **kwargs), seed)


def pruning_set(train, n: int, seed: int = 0):
    """(X, indices): n training images drawn once with a seeded generator (no augmentation)."""
    X = train[0]
    n = min(n, len(X))
    idx = torch.randperm(len(X), generator=torch.Generator().manual_seed(10_000 + seed))[:n]
    return X[idx], idx


def rewind(model: nn.Module, state: dict) -> nn.Module:
    """Weights <- theta0 x masks: copy theta0 into the raw (`*_orig`) parameters, keeping every mask."""
    own = model.state_dict()
    with torch.no_grad():
        for k, v in state.items():
            target = f"{k}_orig" if f"{k}_orig" in own else k
            if target in own and not target.endswith("_mask"):
                own[target].copy_(v)
    return refresh(model)


def operating_point(history: pd.DataFrame, max_drop_pp: float) -> tuple[int, bool]:
    """(iteration, found): the last iteration whose best validation accuracy is within max_drop_pp of dense."""
    dense_val = float(history.loc[history["iteration"] == 0, "val_acc"].iloc[0])
    pruned = history[history["iteration"] >= 1]
    ok = pruned[100 * pruned["val_acc"] >= 100 * dense_val - max_drop_pp - 1e-9]
    if len(ok):
        return int(ok["iteration"].iloc[-1]), True
    return (1 if len(pruned) else 0), False


def records(history: pd.DataFrame) -> list[dict]:
    """History rows as JSON-ready dicts (missing values, such as iteration 0's pre-retraining numbers, as None)."""
    return history.astype(object).where(history.notna(), None).to_dict("records")


def run_key(model, train, val, prune_X, settings: dict) -> dict:
    """The cache config of an iterative run (without the iteration count): code version, inputs and settings."""
    return {
        "version": VERSION,
        "method": "relief",
        "model": type(model).__name__,
        "dense": fingerprint(*model.state_dict().values()),
        "train": fingerprint(train[0][::97], train[1]),
        "val": fingerprint(val[0][::17], val[1]),
        "prune_set": fingerprint(prune_X),
        **settings,
    }


def _evaluate_row(model, val, test, maps) -> dict:
    row = summary(model, maps)
    row["val_acc"] = evaluate(model, *val)["acc"]
    if test is not None:
        row["test_acc"] = evaluate(model, *test)["acc"]
    return row


def iterative_pruning(
    model: nn.Module,
    train,
    val,
    *,
    iterations: int,
    alpha_fc: float = 0.95,
    alpha_conv: float = 0.9,
    n_prune: int = 1000,
    prune_X: torch.Tensor | None = None,
    epochs: float = 2,
    milestones=None,
    opt: str = "adam",
    lr: float = 1e-3,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    batch_size: int = 120,
    theta0_state: dict | None = None,
    variant: str = "paper",
    cut: str | None = None,
    test=None,
    seed: int = 0,
    augment: nn.Module | None = None,
    use_cache: bool = True,
    progress_bar: bool = True,
    desc: str = "NNrelief",
):
    """Iterative NNrelief from a dense `model` (left untouched): T x (prune_step, retrain, best-val checkpoint).

    Returns (pruned copy with prune masks, history DataFrame; iteration 0 = dense). alpha_fc / alpha_conv are the
    knob. theta0_state rewinds to theta0 x masks before each retraining (the authors' LeNet protocol). Each
    iteration is cached (kind "relief-iter"), so a rerun loads and an interrupted or longer run resumes.
    Checkpoints are chosen on `val`; `test` is only reported. `augment` (e.g. CifarAugment) runs before the
    network during retraining only.
    """
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0, got {iterations}")
    for name, a in (("alpha_fc", alpha_fc), ("alpha_conv", alpha_conv)):
        if not 0 < a <= 1:
            raise ValueError(f"{name}={a} must lie in (0, 1]")
    if opt not in OPTIMIZERS:
        raise ValueError(f"opt={opt!r} is not one of {OPTIMIZERS}")
    device = next(model.parameters()).device
    net = install_masks(copy.deepcopy(model))
    opts = variant_options(variant, net)
    if cut is not None:
        opts["cut"] = cut
    if prune_X is None:
        prune_X, _ = pruning_set(train, n_prune, seed)
    prune_X = prune_X.to(device)
    milestones = [epochs / 2] if milestones is None else list(milestones)
    settings = {
        "alpha_fc": alpha_fc,
        "alpha_conv": alpha_conv,
        **opts,
        "epochs": epochs,
        "milestones": milestones,
        "opt": opt,
        "lr": lr,
        "momentum": momentum if opt == "sgd" else None,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "rewind": theta0_state is not None,
        "theta0": fingerprint(*theta0_state.values()) if theta0_state is not None else None,
        "seed": seed,
        "test": fingerprint(test[1]) if test is not None else None,
        "augment": repr(augment) if augment is not None else None,
    }
    key = run_key(model, train, val, prune_X, settings)
    maps = output_maps(net)
    rows, start = None, 0
    if use_cache:
        for t in range(iterations, 0, -1):
            if cache.cache_path("relief-iter", {**key, "iteration": t}).is_file():
                payload = cache.load("relief-iter", {**key, "iteration": t})
                if payload is not None:
                    load_state(net, payload["model"])
                    rows, start = pd.DataFrame(payload["history"]).to_dict("records"), t
                    break
    if rows is None:
        rows = [{"iteration": 0, **_evaluate_row(net, val, test, maps)}]
        if test is not None:
            rows[0]["test_acc_pruned"] = rows[0]["test_acc"]
    todo = range(start + 1, iterations + 1)
    bar = progress(todo, desc=desc, leave=True, disable=not progress_bar or not len(todo))
    for t in bar:
        t0 = time.perf_counter()
        stats = prune_step(net, prune_X, alpha_conv, alpha_fc, **opts)
        prune_seconds = time.perf_counter() - t0
        row = {"iteration": t, **summary(net, maps), "prune_seconds": prune_seconds}
        if test is not None:
            row["test_acc_pruned"] = evaluate(net, *test)["acc"]
        row["dead_units"] = sum(s["dead"] for k, s in stats.items() if k != "swept")
        row["swept_units"] = sum(stats["swept"].values())
        row.update({f"{k}_kept_fraction": s["kept_fraction"] for k, s in stats.items() if k != "swept"})
        if theta0_state is not None:
            rewind(net, theta0_state)
        torch.manual_seed(seed * 1000 + t)  # dropout draws (VGG) are then reproducible on resume
        t1 = time.perf_counter()
        hist = fit(
            net if augment is None else nn.Sequential(augment, net),
            train,
            epochs=epochs,
            batch_size=batch_size,
            opt=opt,
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
            schedule="multistep",
            milestones=milestones,
            seed=seed * 1000 + t,
            val=val,
            keep_best=True,
            progress_bar=False,
        )
        refresh(net)
        row["retrain_seconds"] = time.perf_counter() - t1
        row["epoch_seconds"] = float(hist["seconds"].iloc[0] / hist["epoch"].iloc[0])
        row["val_acc"] = float(hist["val_acc"].max())
        if test is not None:
            row["test_acc"] = evaluate(net, *test)["acc"]
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        bar.set_postfix(remaining=f"{row['params_pct']:.2f}%", val=f"{row['val_acc']:.4f}", refresh=False)
        if use_cache:
            cache.save("relief-iter", {**key, "iteration": t}, {"model": export_state(net), "history": rows})
    bar.close()
    history = pd.DataFrame(rows)
    history.attrs["resumed_from"] = (
        start  # iterations loaded from the cache (== iterations: a full cache hit)
    )
    dense_flops = history["flops_structured"].iloc[0], history["flops_theoretical"].iloc[0]
    history["flops_structured_reduction"] = 1 - history["flops_structured"] / dense_flops[0]
    history["flops_theoretical_reduction"] = 1 - history["flops_theoretical"] / dense_flops[1]
    return net, history


# --- CIFAR-10 (section 5 D: paper profile, only when the data is on disk) ----------------------------------

CIFAR_MEAN = (0.485, 0.456, 0.406)  # the authors normalise CIFAR with ImageNet statistics
CIFAR_STD = (0.229, 0.224, 0.225)


def cifar10_dir(root=None):
    """Where torchvision keeps CIFAR-10: `<data>/cifar-10-batches-py`."""
    from pathlib import Path

    from ..paths import data_dir

    return Path(root or data_dir()) / "cifar-10-batches-py"


def load_cifar10(root=None, n_val: int = 5000, split_seed: int = 0):
    """CIFAR-10 as normalised in-memory tensors: 45k train / 5k validation (seeded) / 10k test; never downloads."""
    import torchvision

    from ..data import MissingDataError, Splits, split_indices

    folder = cifar10_dir(root)
    if not folder.is_dir():
        raise MissingDataError(
            f"CIFAR-10 not found under {folder}; put torchvision's cifar-10-batches-py there"
        )
    mean, std = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR_STD).view(1, 3, 1, 1)

    def tensors(train):
        ds = torchvision.datasets.CIFAR10(str(folder.parent), train=train, download=False)
        X = torch.from_numpy(ds.data).permute(0, 3, 1, 2).float() / 255.0
        return (X - mean) / std, torch.tensor(ds.targets)

    X, y = tensors(True)
    tr, va = split_indices(len(y), n_val, split_seed)
    return Splits(train=(X[tr], y[tr]), val=(X[va], y[va]), test=tensors(False))


class CifarAugment(nn.Module):
    """Training-time RandomCrop(32, padding 4, black padding) and horizontal flip on normalised images."""

    def __init__(self, padding: int = 4):
        super().__init__()
        self.padding = padding
        self.register_buffer("fill", -torch.tensor(CIFAR_MEAN) / torch.tensor(CIFAR_STD), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        n, c, h, w = x.shape
        p = self.padding
        xp = self.fill.to(x).view(1, c, 1, 1).repeat(n, 1, h + 2 * p, w + 2 * p)
        xp[:, :, p : p + h, p : p + w] = x
        oy = torch.randint(0, 2 * p + 1, (n, 1), device=x.device) + torch.arange(h, device=x.device)
        ox = torch.randint(0, 2 * p + 1, (n, 1), device=x.device) + torch.arange(w, device=x.device)
        i = torch.arange(n, device=x.device)[:, None, None, None]
        ch = torch.arange(c, device=x.device)[None, :, None, None]
        out = xp[i, ch, oy[:, None, :, None], ox[:, None, None, :]]
        flip = torch.rand(n, device=x.device) < 0.5
        return torch.where(flip[:, None, None, None], out.flip(-1), out)

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


def cifar_run(
    name: str,
    splits,
    *,
    dense_epochs: float,
    dense_milestones,
    opt: str,
    lr: float,
    iterations: int,
    epochs: float,
    milestones,
    alpha_conv: float,
    alpha_fc: float,
    n_prune: int = 1000,
    variant: str = "paper",
    seed: int = 0,
    device="cpu",
    model_kwargs: dict | None = None,
    progress_bar: bool = True,
) -> dict:
    """Section 5 D: pretrain a CIFAR network (cached), run NNrelief with fine-tuning; returns the summary numbers."""
    model_kwargs = model_kwargs or {}
    recipe = dict(opt=opt, lr=lr, momentum=0.9, weight_decay=5e-4, batch_size=120, schedule="multistep")
    cfg = {
        "version": VERSION,
        "model": name,
        "model_kwargs": model_kwargs,
        "data": fingerprint(splits.train[0][::97], splits.train[1]),
        "epochs": dense_epochs,
        "milestones": list(dense_milestones),
        **recipe,
        "seed": seed,
        "init": "kaiming_normal",
    }

    def pretrain():
        net = theta0(name, seed, **model_kwargs).to(device)
        torch.manual_seed(seed)
        hist = fit(
            nn.Sequential(CifarAugment(), net),
            splits.train,
            epochs=dense_epochs,
            milestones=dense_milestones,
            seed=seed,
            val=splits.val,
            keep_best=True,
            progress_bar=progress_bar,
            desc=f"dense {name}",
            **recipe,
        )
        return {"state": {k: v.cpu() for k, v in net.state_dict().items()}, "history": hist}

    payload, hit = cache.cached("relief-dense", cfg, pretrain)
    from ..models import build_model

    dense = build_model(name, **model_kwargs)
    dense.load_state_dict(payload["state"])
    dense = dense.to(device)
    prune_X, _ = pruning_set(splits.train, n_prune, seed)
    net, hist = iterative_pruning(
        dense,
        splits.train,
        splits.val,
        iterations=iterations,
        alpha_fc=alpha_fc,
        alpha_conv=alpha_conv,
        prune_X=prune_X,
        epochs=epochs,
        milestones=milestones,
        opt=opt,
        lr=lr,
        variant=variant,
        test=splits.test,
        seed=seed,
        augment=CifarAugment(),
        progress_bar=progress_bar,
        desc=f"NNrelief {name}",
    )
    first, last = hist.iloc[0], hist.iloc[-1]
    return {
        "dense_cache_hit": hit,
        "dense_test_acc": float(first["test_acc"]),
        "test_acc": float(last["test_acc"]),
        "drop_pp": float(100 * (first["test_acc"] - last["test_acc"])),
        "remaining_pct": float(last["params_pct"]),
        "cr": float(last["cr_params"]),
        "flops_structured_reduction": float(last["flops_structured_reduction"]),
        "alive_channels": alive_units(net),
        "iterations": records(hist),
    }
