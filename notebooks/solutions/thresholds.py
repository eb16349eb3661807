"""Reference answers to the exercises of notebook 02 (differentiable thresholds). Try them yourself first."""

import torch


def pruning_function(x, t, beta):
    """v^β(x, t) = ReLU(x − t) + t·σ(β(x − t)) − ReLU(−x − t) − t·σ(β(−x − t)), element-wise."""
    return (
        torch.relu(x - t)
        + t * torch.sigmoid(beta * (x - t))
        - torch.relu(-x - t)
        - t * torch.sigmoid(beta * (-x - t))
    )


def dv_dt(x, t, beta):
    """∂v/∂t = −H(x − t) + H(−x − t) + s1 − s2 − tβ·s1(1 − s1) + tβ·s2(1 − s2), s1 = σ(β(x − t)), s2 = σ(β(−x − t))."""
    s1, s2 = torch.sigmoid(beta * (x - t)), torch.sigmoid(beta * (-x - t))
    step = -(x > t).to(x.dtype) + (-x > t).to(x.dtype)  # the two ReLUs' derivatives with respect to t
    return step + s1 - s2 - t * beta * s1 * (1 - s1) + t * beta * s2 * (1 - s2)


busiest_layer = "fc1"  # R counts every weight once, so the layer holding most of them gets most of the push

no_reg_thresholds = "fall"  # with λ = 0 only the fit moves t, and v^β(w, 0) = w: nothing pruned fits best
