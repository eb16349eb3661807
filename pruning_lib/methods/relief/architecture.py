"""What is left of a pruned network in NNrelief's terms: alive units, structured FLOPs, per-iteration metrics.

Alive units are the authors' "architecture" (conv filters with an unmasked kernel; FC input units with an
unmasked outgoing weight); structured FLOPs count only alive units (the authors' formula). Counts and
unstructured FLOPs come from `pruning_lib.metrics` (by mask).
"""

from __future__ import annotations

import pandas as pd
from torch import nn

from ...masks import get_mask, prunable_layers
from ...metrics import mask_counts, masked_flops, output_positions
from ...models import ResNet20
from .network import input_shape, plan, resnet_blocks
from .units import unit_alive


def positions_of(model: nn.Module) -> dict[str, int]:
    """Output positions (H' x W' per conv, 1 per FC) of every prunable layer for one example of the network."""
    return output_positions(model, input_shape(model))


def alive_units(model: nn.Module) -> dict[str, tuple[int, int]]:
    """(alive, total) per layer: conv filters with an unmasked kernel, per FC layer its input units still read."""
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


def _resnet_flops(model: ResNet20, positions: dict[str, int], alive: dict) -> int:
    """Structured FLOPs of ResNet-20: (2 H'W' n_in 9 - 1) n_out per conv, plus the shortcut additions."""
    k2 = 9
    n_in = model.conv1.in_channels
    n_out = alive["conv1"][0]
    total = (2 * positions["conv1"] * n_in * k2 - 1) * n_out
    n_in = n_out
    for name, blk in resnet_blocks(model):
        mid = alive[f"{name}.conv1"][0]
        out = alive[f"{name}.out"][0]
        total += (2 * positions[f"{name}.conv1"] * n_in * k2 - 1) * mid
        total += (2 * positions[f"{name}.conv2"] * mid * k2 - 1) * out
        total += positions[f"{name}.conv2"] * int((blk.shortcut.mask != 0).sum())
        n_in = out
    return int(total + (2 * alive["linear.in"][0] - 1) * model.linear.out_features)


def structured_flops(model: nn.Module, positions: dict[str, int] | None = None) -> int:
    """FLOPs of the network shrunk to its alive units (the authors' formula); `positions` from `positions_of`."""
    positions = positions or positions_of(model)
    alive = alive_units(model)
    if isinstance(model, ResNet20):
        return _resnet_flops(model, positions, alive)
    p = plan(model)
    total, n_in = 0, p.input_shape[0] if p.convs else None
    for L in p.convs:
        n_out = alive[L.name][0]
        k2 = L.conv.kernel_size[0] * L.conv.kernel_size[1]
        total += 2 * positions[L.name] * (n_in * k2 + 1) * n_out
        n_in = n_out
    widths = [alive[f"{L.name}.in"][0] for L in p.fcs] + [p.fcs[-1].fc.out_features]
    total += sum((2 * a - 1) * b for a, b in zip(widths[:-1], widths[1:]))
    return int(total)


def iteration_metrics(model: nn.Module, positions: dict[str, int] | None = None) -> dict:
    """One history row's counts: remaining % and CR (by mask), per-layer %, alive units, both FLOPs counts."""
    positions = positions or positions_of(model)
    r = mask_counts(model)
    out = {k: v for k, v in r.items() if k != "layer_weights_pct"}
    out.update({f"{n}_pct": v for n, v in r["layer_weights_pct"].items()})
    out.update({f"{n}_alive": a for n, (a, _) in alive_units(model).items()})
    out["flops_structured"] = structured_flops(model, positions)
    out["flops_theoretical"] = masked_flops(model, positions=positions)
    return out


def alive_unit_labels(model: nn.Module) -> dict[str, str]:
    """Readable names for the alive-unit columns of a history: conv filters, pixels/features read, FC units."""
    if isinstance(model, ResNet20):  # conv filters, block outputs (branch or shortcut on), features read
        labels = {
            k: f"{k[:-4]} out channels" if k.endswith(".out") else f"{k} filters" for k in alive_units(model)
        }
        return {f"{k}_alive": v for k, v in {**labels, "linear.in": "features read"}.items()}
    p = plan(model)
    out = {f"{L.name}_alive": f"{L.name} filters" for L in p.convs}
    for i, L in enumerate(p.fcs):
        first = "features read" if p.convs else "pixels read"
        out[f"{L.name}.in_alive"] = first if i == 0 else f"{p.fcs[i - 1].name} units"
    return out


def layer_breakdown(history: pd.DataFrame, iteration: int, dense: nn.Module) -> dict:
    """Remaining % per layer and (alive, total) units per layer at one iteration of a history."""
    at = history.set_index("iteration").loc[iteration]
    names = list(prunable_layers(dense))
    pct = [float(at[f"{n}_pct"]) for n in names]
    totals = {f"{n}_alive": tot for n, (_, tot) in alive_units(dense).items()}
    labels = alive_unit_labels(dense)
    alive = {labels[k]: (int(at[k]), tot) for k, tot in totals.items()}
    return {
        "iteration": int(iteration),
        "remaining_pct": dict(zip(names, pct)),
        "alive_units": {k: list(v) for k, v in alive.items()},
    }
