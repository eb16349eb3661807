"""The binary form of the two-logit Gumbel-softmax (Zhang, Tao, Zhang 2023: the gate sampling).

A two-channel Gumbel-softmax depends only on delta = theta_0 - theta_1. With L = G_0 - G_1, which is
Logistic(0, 1) (L = log u - log(1 - u), one uniform u per weight), the hard sample is 1[delta + L >= 0] and
channel 0 of the soft sample is sigmoid((delta + L) / tau): the same distribution and the same straight-through
gradient as `F.gumbel_softmax(logits, tau, hard=True)[..., 0]` (tests/test_gumbel.py checks both), with one
random number per weight and no softmax over a size-2 axis. The logits `theta` are stored as (2, *weight.shape),
so theta_0, theta_1 and their gradients are contiguous blocks.
"""

from __future__ import annotations

import torch


def logistic_noise(shape, device=None, dtype=None) -> torch.Tensor:
    """L = log u - log(1 - u), u ~ U[0, 1): Logistic(0, 1), distributed as the difference of two Gumbel(0, 1)."""
    return torch.rand(shape, device=device, dtype=dtype).logit_()


def _z(theta: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """z = delta + L with delta = theta_0 - theta_1; `noise` (L) is overwritten and returned."""
    return noise.add_(theta[0]).sub_(theta[1])


def _keep(z: torch.Tensor) -> torch.Tensor:
    """The hard sample 1[z >= 0] as a 0/1 tensor of z's dtype."""
    return torch.ge(z, 0, out=torch.empty_like(z))


def _theta_grad(slope_times_g: torch.Tensor) -> torch.Tensor:
    """Gradient w.r.t. theta (2, *shape) from one w.r.t. delta: (+g, -g)."""
    out = torch.empty((2, *slope_times_g.shape), dtype=slope_times_g.dtype, device=slope_times_g.device)
    out[0] = slope_times_g
    torch.neg(slope_times_g, out=out[1])
    return out


def _soft(z: torch.Tensor, tau: float) -> torch.Tensor:
    """The soft sample sigmoid(z / tau) (channel 0 of the Gumbel-softmax), a new tensor."""
    return torch.mul(z, 1.0 / tau).sigmoid_()


class _HardSample(torch.autograd.Function):
    """Hard keep-mask 1[delta + L >= 0]; backward: the gradient of sigmoid((delta + L) / tau) (straight-through)."""

    @staticmethod
    def forward(ctx, theta, tau, noise):
        """The hard sample (overwrites `noise`)."""
        z = _z(theta, noise)
        ctx.tau = tau
        ctx.save_for_backward(z)
        return _keep(z)

    @staticmethod
    def backward(ctx, grad):
        """The straight-through gradient w.r.t. theta."""
        (z,) = ctx.saved_tensors
        g = torch.ops.aten.sigmoid_backward(grad, _soft(z, ctx.tau)).mul_(1.0 / ctx.tau)
        return _theta_grad(g), None, None


class _GatedWeight(torch.autograd.Function):
    """W * m for a hard sample m in one step; backward: g * m for W, the straight-through g * W for the mask."""

    @staticmethod
    def forward(ctx, weight, theta, tau, noise):
        """W times a hard sample (overwrites `noise`)."""
        z = _z(theta, noise)
        keep = _keep(z)
        ctx.tau = tau
        ctx.save_for_backward(weight, z, keep)
        return weight * keep

    @staticmethod
    def backward(ctx, grad):
        """Gradients w.r.t. W (masked) and theta (straight-through)."""
        weight, z, keep = ctx.saved_tensors
        g_weight = grad * keep if ctx.needs_input_grad[0] else None
        g_theta = None
        if ctx.needs_input_grad[1]:
            g_mask = torch.mul(grad, weight).mul_(1.0 / ctx.tau)
            g_theta = _theta_grad(torch.ops.aten.sigmoid_backward(g_mask, _soft(z, ctx.tau)))
        return g_weight, g_theta, None, None


class _KeptCount(torch.autograd.Function):
    """Number of kept gates in a hard sample (0-d); backward: the straight-through slope of every gate."""

    @staticmethod
    def forward(ctx, theta, tau, noise):
        """The kept count of a hard sample (overwrites `noise`)."""
        z = _z(theta, noise)
        ctx.tau = tau
        ctx.save_for_backward(z)
        return torch.count_nonzero(z >= 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad):
        """The straight-through slope s (1 - s) / tau of every gate, times the incoming scalar."""
        (z,) = ctx.saved_tensors
        s = _soft(z, ctx.tau)
        slope = s.sub_(s * s).mul_(grad / ctx.tau)  # s (1 - s) / tau, times the incoming scalar
        return _theta_grad(slope), None, None
