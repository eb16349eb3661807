"""The gate: a parametrization W -> W * mask with two logits per weight (Zhang, Tao, Zhang 2023: the gates).

Every gated weight W gets two logits per connection, theta_0 ("keep") and theta_1 ("drop"), held by a
`torch.nn.utils.parametrize` parametrization, `GumbelGate`. In "sample" mode each access of the weight draws one
hard 0/1 mask by the Gumbel-max trick, with the straight-through gradient of the Gumbel-softmax at temperature
tau; "argmax" gives the extracted mask M* = 1[theta_0 >= theta_1] (a tie keeps); "dense" leaves W unchanged.
Here also: the densities of a gated model, its masks, and `export_pruned` (an ordinary model with
torch.nn.utils.prune masks M*).
"""

from __future__ import annotations

import copy
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn.utils import parametrize

from ...checks import check_choice, check_range
from ...masks import apply_masks
from .binary import _GatedWeight, _HardSample, _KeptCount, logistic_noise

MODES = ("sample", "argmax", "dense")
INITS = ("torch", "authors")


class GumbelGate(nn.Module):
    """Parametrization W -> W * mask with two logits per weight: channel 0 keeps, channel 1 drops.

    The parameter `theta` has shape (2, *W.shape) (theta_0 and theta_1 each contiguous); `logits` is its
    (*W.shape, 2) view, the layout of the authors' code and of F.gumbel_softmax. mode "sample": a fresh hard
    straight-through mask at every access of the weight; "argmax": M*; "dense": W unchanged.
    """

    def __init__(self, shape, tau: float = 3.0, scale: float | None = None, mode: str = "sample"):
        super().__init__()
        shape = tuple(shape)
        fan_in = shape[-1] if len(shape) > 1 else shape[0]
        self.theta = nn.Parameter(torch.randn(2, *shape) * (2.0 / fan_in if scale is None else scale))
        self.tau = check_range("tau", tau, 1e-6)
        self.mode = mode
        self.layer = ""

    @property
    def mode(self) -> str:
        """'sample', 'argmax' or 'dense'."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        """Set the mode (checked against MODES)."""
        self._mode = check_choice("mode", value, MODES)

    @property
    def logits(self) -> torch.Tensor:
        """The gate logits as a (*W.shape, 2) view of `theta` ([..., 0] keep, [..., 1] drop)."""
        return self.theta.movedim(0, -1)

    def numel(self) -> int:
        """Number of gated weights."""
        return self.theta[0].numel()

    def delta(self) -> torch.Tensor:
        """theta_0 - theta_1: the keep log-odds (P(m = 1) = sigmoid(delta) at every temperature)."""
        return self.theta[0] - self.theta[1]

    def noise(self) -> torch.Tensor:
        """One Logistic(0, 1) draw per weight (from the global torch random stream)."""
        return logistic_noise(self.theta.shape[1:], self.theta.device, self.theta.dtype)

    def sample(self, tau: float | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
        """A hard 0/1 mask with the straight-through gradient of the Gumbel-softmax at `tau` (default self.tau).

        `noise` (optional) is the Logistic draw L = G_0 - G_1 to use; it is not modified.
        """
        noise = self.noise() if noise is None else noise.detach().clone()
        return _HardSample.apply(self.theta, self.tau if tau is None else tau, noise)

    @torch.no_grad()
    def argmax_mask(self) -> torch.Tensor:
        """M* = 1[theta_0 >= theta_1] as a bool tensor (a tie keeps)."""
        return self.theta[0] >= self.theta[1]

    def expected_density(self) -> torch.Tensor:
        """Mean keep-probability, mean sigmoid(theta_0 - theta_1)."""
        return torch.sigmoid(self.delta()).mean()

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """W gated by the current mode."""
        if self._mode == "dense":
            return weight
        if self._mode == "argmax":
            return weight * self.argmax_mask()
        return _GatedWeight.apply(weight, self.theta, self.tau, self.noise())

    def extra_repr(self) -> str:
        """Layer name, logits shape, tau and mode."""
        return (
            f"{self.layer or 'weight'}: logits {tuple(self.logits.shape)}, tau={self.tau}, mode={self._mode}"
        )


def gate_layers(
    model: nn.Module, tau: float = 3.0, init: str = "torch", types=(nn.Linear,)
) -> list[GumbelGate]:
    """Gate the weight of every module of `types` (nn.Linear, and nn.Conv2d if asked); biases are never gated.

    init="torch" keeps the layer's weights; init="authors" re-draws W ~ N(0, 1) x 2/fan_in and b = 2/fan_in as
    the authors' code does. Gate logits are N(0, 1) x 2/fan_in either way (keep-probability about 0.5).
    """
    check_choice("init", init, INITS)
    gates = []
    for name, module in model.named_modules():
        if not isinstance(module, types):
            continue
        if parametrize.is_parametrized(module, "weight"):
            raise ValueError(f"layer {name!r} is already parametrized")
        scale = 2.0 / module.weight[0].numel()  # fan_in: in_features, or in_channels x kernel area
        if init == "authors":
            with torch.no_grad():
                module.weight.normal_().mul_(scale)
                if module.bias is not None:
                    module.bias.fill_(scale)
        gate = GumbelGate(module.weight.shape, tau, scale, mode="dense")
        gate.to(module.weight.device)
        gate.layer = name
        parametrize.register_parametrization(module, "weight", gate)  # "dense" here: no draw at registration
        gate.mode = "sample"
        gates.append(gate)
    if not gates:
        raise ValueError(f"the model has no layer of types {[t.__name__ for t in types]} to gate")
    return gates


def gate_linears(model: nn.Module, tau: float = 3.0, init: str = "torch") -> list[GumbelGate]:
    """Gate every nn.Linear weight of `model` (the paper's setting); returns the gates in module order."""
    return gate_layers(model, tau, init, (nn.Linear,))


def gates_of(obj) -> list[GumbelGate]:
    """The gates of a gated model (module order), or the list itself when given gates."""
    if isinstance(obj, nn.Module):
        return [m for m in obj.modules() if isinstance(m, GumbelGate)]
    return list(obj)


def set_mode(obj, mode: str) -> list[str]:
    """Put every gate of a model (or a list of gates) in `mode`; returns the previous modes."""
    check_choice("mode", mode, MODES)
    gates = gates_of(obj)
    before = [g.mode for g in gates]
    for g in gates:
        g.mode = mode
    return before


@contextmanager
def gate_mode(obj, mode: str):
    """Context manager: gates in `mode` inside, previous modes restored after."""
    gates = gates_of(obj)
    before = set_mode(gates, mode)
    try:
        yield gates
    finally:
        for g, m in zip(gates, before):
            g.mode = m


def n_gated(obj) -> int:
    """N: the number of gated weights (the denominator of every density)."""
    return sum(g.numel() for g in gates_of(obj))


def sampled_density(obj, tau: float = 1.0) -> torch.Tensor:
    """D_hat: the kept fraction of an independent hard sample of every gate, with its straight-through gradient."""
    gates = gates_of(obj)
    total = sum(_KeptCount.apply(g.theta, tau, g.noise()) for g in gates)
    return total / n_gated(gates)


def expected_density(obj) -> float:
    """Mean keep-probability over all gated weights."""
    gates = gates_of(obj)
    with torch.no_grad():
        return sum(torch.sigmoid(g.delta()).sum().item() for g in gates) / n_gated(gates)


def argmax_masks(obj) -> dict[str, torch.Tensor]:
    """M* per layer name (bool tensors, CPU)."""
    return {g.layer: g.argmax_mask().cpu() for g in gates_of(obj)}


def kept_counts(obj) -> dict[str, int]:
    """Number of weights kept by argmax per layer name."""
    return {g.layer: int(g.argmax_mask().sum()) for g in gates_of(obj)}


def argmax_density(obj) -> float:
    """Kept fraction under M* over all gated weights."""
    return sum(kept_counts(obj).values()) / n_gated(obj)


def export_pruned(model: nn.Module, copy_model: bool = True) -> nn.Module:
    """A plain model with weights W * M* and torch.nn.utils.prune masks M* (a copy unless copy_model=False)."""
    model = copy.deepcopy(model) if copy_model else model
    masks = {}
    for name, module in list(model.named_modules()):
        if not parametrize.is_parametrized(module, "weight"):
            continue
        gate = module.parametrizations.weight[0]
        if isinstance(gate, GumbelGate):
            gate.mode = "argmax"
            masks[name] = gate.argmax_mask().clone()
            if (
                copy_model
            ):  # a deep copy shares parametrize's injected class with the original: give it its own
                cls = module.__class__
                module.__class__ = type(cls.__name__, cls.__bases__, dict(cls.__dict__))
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return apply_masks(model, masks)


def gated_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable (unmasked) weight W of every gated layer, by layer name, read without drawing a mask."""
    return {
        name: m.parametrizations.weight.original.detach()
        for name, m in model.named_modules()
        if parametrize.is_parametrized(m, "weight")
    }
