"""FLOPs two ways: by the weight mask alone, and activation-aware as in Han et al.'s Tables 2-3.

Han et al. count a multiply-add only where both the weight and the layer's input are nonzero: their FLOP % is
≈ weights % × the previous layer's nonzero activations, with the network's input taken as dense. Here the
activation-aware count is exact per image: the layer applied to its input's nonzero indicator with the 0/1
weight mask as weights, summed, times 2.
"""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ...masks import prunable_layers


@torch.no_grad()
def activation_flops(model: nn.Module, X: torch.Tensor, *, dense_input: bool = True) -> pd.DataFrame:
    """Per prunable layer and in total: dense FLOPs, FLOP % by weights alone and activation-aware, input density."""
    layers, rows, first = prunable_layers(model), {}, next(iter(prunable_layers(model)))

    def hook(name, module, inputs, _out):
        x = inputs[0]
        ind = torch.ones_like(x) if dense_input and name == first else (x != 0).to(x.dtype)
        w = module.weight
        nz, ones = (w != 0).to(w.dtype), torch.ones_like(w)
        if isinstance(module, nn.Conv2d):
            kw = {"stride": module.stride, "padding": module.padding, "dilation": module.dilation,
                  "groups": module.groups}  # fmt: skip
            act, wts, dense = (F.conv2d(i, m, **kw).sum().item() for i, m in
                               [(ind, nz), (torch.ones_like(x), nz), (torch.ones_like(x), ones)])  # fmt: skip
        else:
            act, wts, dense = (F.linear(i, m).sum().item() for i, m in
                               [(ind, nz), (torch.ones_like(x), nz), (torch.ones_like(x), ones)])  # fmt: skip
        r = rows.setdefault(name, {"layer": name, "macs_dense": 0.0, "macs_weights": 0.0, "macs_act": 0.0,
                                   "input_nonzero": 0.0, "inputs": 0})  # fmt: skip
        r["macs_dense"] += dense
        r["macs_weights"] += wts
        r["macs_act"] += act
        r["input_nonzero"] += (x != 0).sum().item()
        r["inputs"] += x.numel()

    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: hook(n, mod, i, o)) for n, m in layers.items()]
    was_training = model.training
    model.eval()
    try:
        model(X.to(next(model.parameters()).device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    df = pd.DataFrame(list(rows.values()))
    total = {"layer": "total", **df.drop(columns="layer").sum().to_dict(), "input_nonzero": float("nan")}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    return pd.DataFrame({
        "layer": df["layer"],
        "flops_dense": 2 * df["macs_dense"] / len(X),
        "flops_weights_pct": 100 * df["macs_weights"] / df["macs_dense"],
        "flops_act_pct": 100 * df["macs_act"] / df["macs_dense"],
        "input_nonzero_pct": 100 * df["input_nonzero"] / df["inputs"],
    })  # fmt: skip
