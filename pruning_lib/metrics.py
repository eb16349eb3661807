"""Counts, compression and FLOPs, defined once and reported the same way in every notebook.

Conventions: "weights" are the prunable Linear/Conv2d weight tensors; "parameters" are weights plus biases (and
any other parameter). Compression = total / nonzero. A layer's dense FLOPs are 2 x weights x output positions
(a multiply and an add per weight, as in Han et al.'s tables); effective FLOPs count nonzero weights only.
`mask_counts` and `masked_flops` count by the prune masks instead of by value (unmasked = kept, even when the
kept value happens to be exactly 0), over the Linear/Conv2d weights and biases.
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from .masks import get_mask, is_pruned, prunable_layers


def effective_parameters(model: nn.Module):
    """Yield (name, effective tensor, is_weight) for every parameter, masks applied."""
    layers = prunable_layers(model)
    for mod_name, module in model.named_modules():
        for pname, _ in module.named_parameters(recurse=False):
            base = pname.removesuffix("_orig")
            full = f"{mod_name}.{base}" if mod_name else base
            yield full, getattr(module, base), (mod_name in layers and base == "weight")


def counts(model: nn.Module) -> dict:
    """Total and nonzero counts of weights and of all parameters, and both compression ratios."""
    c = {"weights": 0, "weights_nonzero": 0, "params": 0, "params_nonzero": 0}
    for _, t, is_weight in effective_parameters(model):
        n, nz = t.numel(), int(torch.count_nonzero(t))
        c["params"] += n
        c["params_nonzero"] += nz
        if is_weight:
            c["weights"] += n
            c["weights_nonzero"] += nz
    c["weights_pct"] = 100.0 * c["weights_nonzero"] / c["weights"]
    c["params_pct"] = 100.0 * c["params_nonzero"] / c["params"]
    c["compression_weights"] = compression_ratio(c["weights"], c["weights_nonzero"])
    c["compression_params"] = compression_ratio(c["params"], c["params_nonzero"])
    return c


def compression_ratio(total: int, nonzero: int) -> float:
    """total / nonzero (infinite when nothing is left)."""
    return float("inf") if nonzero == 0 else total / nonzero


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (masks ignored)."""
    return counts(model)["params"]


def output_positions(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, int]:
    """Output positions per example (H' x W' for a conv, 1 for a Linear on a vector) via forward hooks."""
    layers = prunable_layers(model)
    out: dict[str, int] = {}

    def record(name, module, o):
        channels = o.shape[-1] if isinstance(module, nn.Linear) else o.shape[1]
        out[name] = o.numel() // channels  # batch of one example

    hooks = [
        m.register_forward_hook(lambda mod, inp, o, name=name: record(name, mod, o))
        for name, m in layers.items()
    ]
    was_training = model.training
    try:
        p = next(model.parameters())
        model.eval()  # a batch of one: BatchNorm must use its running statistics
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=p.device, dtype=p.dtype))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return out


def mask_counts(model: nn.Module) -> dict:
    """Unmasked / total over the Linear/Conv2d weights and biases (BatchNorm and other gates not counted).

    Compression (cr_*) is total / max(unmasked, 1); `layer_weights_pct` is each layer's unmasked weight share.
    """
    w = wn = b = bn = 0
    per_layer = {}
    for name, m in prunable_layers(model).items():
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


def masked_flops(
    model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28), positions: dict[str, int] | None = None
) -> int:
    """Unstructured FLOPs by mask: 2 x unmasked weights x output positions, summed over the prunable layers.

    `positions` (from `output_positions`) saves the forward pass that measures them.
    """
    positions = positions or output_positions(model, input_shape)
    total = 0
    for name, m in prunable_layers(model).items():
        total += 2 * int(get_mask(m).sum()) * positions[name]
    return int(total)


def layer_table(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> pd.DataFrame:
    """Per prunable layer: weights, nonzero, % remaining, dense and effective FLOPs; a Total row last."""
    positions = output_positions(model, input_shape)
    rows = []
    for name, m in prunable_layers(model).items():
        w = m.weight
        n, nz = w.numel(), int(torch.count_nonzero(w))
        pos = positions[name]
        rows.append(
            {
                "layer": name,
                "type": type(m).__name__,
                "shape": "x".join(map(str, w.shape)),
                "weights": n,
                "nonzero": nz,
                "remaining_pct": 100.0 * nz / n,
                "flops_dense": 2 * n * pos,
                "flops_effective": 2 * nz * pos,
            }
        )
    df = pd.DataFrame(rows)
    total = {
        "layer": "total",
        "type": "",
        "shape": "",
        **df[["weights", "nonzero", "flops_dense", "flops_effective"]].sum().to_dict(),
    }
    total["remaining_pct"] = 100.0 * total["nonzero"] / total["weights"]
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["flops_pct"] = 100.0 * df["flops_effective"] / df["flops_dense"]
    return df


def flops(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> dict:
    """Dense and effective FLOPs per example and the theoretical speedup (dense / effective)."""
    total = layer_table(model, input_shape).iloc[-1]
    dense, eff = int(total["flops_dense"]), int(total["flops_effective"])
    return {"dense": dense, "effective": eff, "speedup": compression_ratio(dense, eff)}


def summary(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> dict:
    """counts() and flops() in one flat dict (what results.json stores for a pruned model)."""
    f = flops(model, input_shape)
    return {
        **counts(model),
        "flops_dense": f["dense"],
        "flops_effective": f["effective"],
        "speedup_theoretical": f["speedup"],
    }


def sparsity(model: nn.Module) -> dict:
    """The sparsity a check compares: unmasked and nonzero prunable weights, and whether any mask is installed."""
    return {
        "masked": any(is_pruned(m) for m in prunable_layers(model).values()),
        "weights_unmasked": mask_counts(model)["weights_unmasked"],
        "weights_nonzero": counts(model)["weights_nonzero"],
    }


def check_sparsity(model: nn.Module, expected: int | dict, what: str = "model") -> dict:
    """Raise if `model` lost a mask: its kept weights must equal `expected` (a count, or `sparsity()` of before).

    Kept means unmasked; a pruned weight must also be exactly 0 (nonzero <= unmasked). Returns `sparsity(model)`.
    """
    now = sparsity(model)
    want = expected["weights_unmasked"] if isinstance(expected, dict) else int(expected)
    total = counts(model)["weights"]
    if want < total and not now["masked"]:
        raise AssertionError(
            f"{what}: no prune mask is installed, but {want:,} of {total:,} weights should be kept"
        )
    if now["weights_unmasked"] != want:
        raise AssertionError(
            f"{what}: {now['weights_unmasked']:,} weights are kept, expected {want:,} (a mask was lost)"
        )
    if now["weights_nonzero"] > now["weights_unmasked"]:
        raise AssertionError(f"{what}: {now['weights_nonzero']:,} nonzero weights but only {want:,} unmasked")
    return now
