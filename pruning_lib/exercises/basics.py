"""Checks of notebook 00's exercises (pruning basics: masks, compression, sensitivity)."""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn
from torch.nn.utils import prune

from ..masks import apply_masks, is_pruned, masked_copy, prunable_layers
from ..methods.magnitude import global_magnitude_masks, layerwise_magnitude_masks
from ..metrics import counts, flops
from ..models import LeNet300100
from ..train import evaluate
from . import exercise, expect, expect_shape


def reference_layerwise_masks(model: nn.Module, fraction: float) -> dict[str, torch.Tensor]:
    """torch.nn.utils.prune.l1_unstructured's masks on a copy of every nn.Linear of `model` (bool)."""
    out = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            probe = nn.Linear(module.in_features, module.out_features)
            probe.weight.data.copy_(module.weight.detach())
            prune.l1_unstructured(probe, "weight", amount=fraction)
            out[name] = probe.weight_mask.bool()
    return out


@exercise("Exercise 1 · layerwise magnitude masks")
def check_layerwise_masks(layerwise_masks, fractions=(0.5, 0.9)) -> str:
    """Compare the reader's `layerwise_masks(model, fraction)` with torch.nn.utils.prune.l1_unstructured."""
    torch.manual_seed(0)
    model = LeNet300100()
    for fraction in fractions:
        got, want = layerwise_masks(model, fraction), reference_layerwise_masks(model, fraction)
        expect(isinstance(got, dict), f"layerwise_masks should return a dict, got {type(got).__name__}")
        expect(set(got) == set(want), f"expected one mask per Linear layer {sorted(want)}, got {sorted(got)}")
        for name, mask in want.items():
            expect_shape(got[name], mask.shape, f"the mask of {name}")
            kept = int(got[name].bool().sum())
            expect(
                kept == int(mask.sum()),
                f"fraction {fraction}: {name} should keep {int(mask.sum()):,} of {mask.numel():,} weights, "
                f"keeps {kept:,}",
            )
            wrong = int((got[name].bool() != mask).sum())
            expect(
                wrong == 0,
                f"fraction {fraction}: {name} keeps the right count but {wrong} wrong weights "
                "(keep the largest |w|, not the largest w)",
            )
    return f"matches torch.nn.utils.prune.l1_unstructured at fractions {', '.join(map(str, fractions))}"


# --- Exercise 2: compression and FLOPs by hand ------------------------------------------------------------

COUNTING_INPUT = (1, 4, 4)  # one 4x4 grey image
COUNTING_KEYS = ("compression_weights", "compression_params", "flops_dense", "flops_effective")


def counting_toy() -> nn.Module:
    """Exercise 2's tiny net: Conv2d(1, 2, 2) on a 4x4 image (3x3 outputs), then Linear(18, 3), hand-built masks."""
    net = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(18, 3))
    with torch.no_grad():
        for layer in (net[0], net[3]):
            layer.weight.fill_(0.5), layer.bias.fill_(0.1)
    conv_keep = torch.tensor([[[[1, 0], [1, 1]]], [[[0, 1], [0, 1]]]], dtype=torch.bool)
    fc_keep = torch.zeros(3, 18, dtype=torch.bool)
    for row, cols in enumerate(([0, 4, 9, 13], [2, 11, 17], [6, 15])):
        fc_keep[row, cols] = True
    return apply_masks(net, {"0": conv_keep, "3": fc_keep})


def counting_answers(model: nn.Module | None = None) -> dict[str, float]:
    """What pl.metrics says about the counting toy: both compressions, dense and effective FLOPs per image."""
    model = counting_toy() if model is None else model
    c, f = counts(model), flops(model, COUNTING_INPUT)
    return {
        "compression_weights": c["compression_weights"],
        "compression_params": c["compression_params"],
        "flops_dense": f["dense"],
        "flops_effective": f["effective"],
    }


def _counting_hint(key: str, got: float, want: dict, c: dict) -> str:
    """Why a hand count is off, guessed from the mistakes students make most."""
    close = lambda a, b: abs(a - b) <= 5e-3 * abs(b)  # noqa: E731
    if key.startswith("compression") and got and close(1 / got, want[key]):
        return "compression is total / nonzero, not nonzero / total"
    if key == "compression_params" and close(got, want["compression_weights"]):
        return "all parameters also count the 5 biases (2 + 3), which are never pruned"
    if key.startswith("flops"):
        n = c["weights"] if key == "flops_dense" else c["weights_nonzero"]
        if close(got, 2 * n) or close(got, n):
            return "a conv weight is used once per output position: its 2x2 kernel visits 3x3 = 9 positions"
        if close(2 * got, want[key]):
            return "count a multiply and an add: 2 FLOPs per use of a weight"
    return "count the 1s of both masks again; weights are the two weight tensors, parameters add the biases"


@exercise("Exercise 2 · compression and FLOPs by hand")
def check_counts_by_hand(by_hand: dict) -> str:
    """Compare the reader's hand-counted compressions and FLOPs of `counting_toy()` with pl.metrics."""
    expect(isinstance(by_hand, dict), f"by_hand should be a dict, got {type(by_hand).__name__}")
    expect(set(COUNTING_KEYS) <= set(by_hand), f"by_hand should have the keys {', '.join(COUNTING_KEYS)}")
    if all(by_hand[k] is None for k in COUNTING_KEYS):
        raise NotImplementedError
    missing = [k for k in COUNTING_KEYS if by_hand[k] is None]
    expect(not missing, f"fill in {', '.join(missing)} too")
    model = counting_toy()
    want, c = counting_answers(model), counts(model)
    for key in COUNTING_KEYS:
        got = float(by_hand[key])
        expect(
            abs(got - want[key]) <= 5e-3 * abs(want[key]),
            f"{key} = {got:g} is not what pl.metrics counts ({_counting_hint(key, got, want, c)})",
        )
    return (
        f"compression {want['compression_weights']:.2f}x (weights) but FLOPs only "
        f"{want['flops_dense'] / want['flops_effective']:.2f}x fewer: the conv's weights are each used 9 times"
    )


# --- Exercises 3 and 4: predict, then measure on the notebook's dense model ---------------------------------

SCAN_FRACTIONS = (0.5, 0.75, 0.9, 0.95, 0.98, 0.99)  # fractions of one layer's weights removed
QUESTION_FRACTION = 0.95  # Exercise 4 asks about this fraction


@torch.no_grad()
def oneshot_val_acc(dense: nn.Module, masks: dict[str, torch.Tensor], val) -> float:
    """Validation accuracy of `dense` with `masks` applied, no retraining (`dense` is restored afterwards)."""
    layers = prunable_layers(dense)
    if any(is_pruned(m) for m in layers.values()):
        return evaluate(masked_copy(dense, masks), *val)["acc"]
    saved = {name: layers[name].weight.clone() for name in masks}
    try:
        for name, mask in masks.items():
            layers[name].weight.mul_(mask.to(layers[name].weight))
        return evaluate(dense, *val)["acc"]
    finally:
        for name, w in saved.items():
            layers[name].weight.copy_(w)


def magnitude_mask(w: torch.Tensor, removed: float) -> torch.Tensor:
    """Bool mask of `w` without the `removed` fraction of smallest |w| (rounded as torch.nn.utils.prune does)."""
    mask = torch.zeros(w.numel(), dtype=torch.bool, device=w.device)
    mask[torch.topk(w.detach().abs().flatten(), w.numel() - round(removed * w.numel())).indices] = True
    return mask.view_as(w)


@exercise("Exercise 3 · global or layerwise magnitude at 16x")
def check_global_or_layerwise(prediction, dense: nn.Module, val, compression: float = 16) -> str:
    """Measure one-shot global and layerwise magnitude pruning at `compression` on validation; compare."""
    expect(
        prediction in ("global", "layerwise"),
        f'prediction should be "global" or "layerwise", got {prediction!r}',
    )
    gmasks = global_magnitude_masks(dense, 1 / compression)
    acc = {
        "global": oneshot_val_acc(dense, gmasks, val),
        "layerwise": oneshot_val_acc(dense, layerwise_magnitude_masks(dense, 1 / compression), val),
    }
    best = max(acc, key=acc.get)
    kept = ", ".join(f"{n} {100 * float(m.float().mean()):.1f}%" for n, m in gmasks.items())
    measured = (
        f"at {compression:g}x without retraining, validation accuracy is {acc['global']:.1%} with one global "
        f"threshold and {acc['layerwise']:.1%} with the same fraction per layer; the global threshold keeps {kept}"
    )
    expect(prediction == best, f"not this time: {measured}, so {best} keeps more accuracy")
    return measured


def layer_sensitivity(dense: nn.Module, val, fractions=SCAN_FRACTIONS) -> pd.DataFrame:
    """Validation accuracy with ONE layer pruned by magnitude (the others dense, no retraining), per layer and fraction."""
    rows, layers = [], prunable_layers(dense)
    for name in layers:
        for f in fractions:
            mask = magnitude_mask(layers[name].weight, f)
            rows.append({"layer": name, "removed": f, "val_acc": oneshot_val_acc(dense, {name: mask}, val)})
    return pd.DataFrame(rows)


@exercise("Exercise 4 · which layer tolerates the most pruning")
def check_most_tolerant_layer(prediction, dense: nn.Module, val, removed: float = QUESTION_FRACTION) -> str:
    """Prune each layer of `dense` alone by `removed`, measure validation accuracy, compare with the prediction."""
    layers = prunable_layers(dense)
    expect(
        prediction in layers,
        f"prediction should be one of {', '.join(map(repr, layers))}, got {prediction!r}",
    )
    scan = layer_sensitivity(dense, val, (removed,))
    acc = dict(zip(scan["layer"], scan["val_acc"]))
    best = max(acc, key=acc.get)
    fan_in = {n: m.weight[0].numel() for n, m in layers.items()}
    measured = (
        f"with {removed:.0%} of one layer's weights removed (the others untouched), validation accuracy is "
        + ", ".join(f"{n} {a:.1%}" for n, a in acc.items())
        + f"; {best} ({fan_in[best]} inputs per unit) tolerates it best"
    )
    expect(prediction == best, f"not this time: {measured}")
    return measured
