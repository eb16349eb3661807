"""The paper's net: a fully connected MLP with 0/1 masks on its hidden neurons, its errors and its accuracy.

Wolfe et al. 2017, Sec. 2: a logistic sigmoid on every hidden and output unit, h_l = sigma(a_l) * m_l, and the
summed squared error E = sum_n 1/2 sum_i (o_ni - t_ni)^2. The activation, the output activation and the
per-sample error ("sse" or "ce") are attributes, so `SigmoidMLP.from_linears` also wraps the Linear layers of an
ordinary ReLU / cross-entropy model (e.g. LeNet-300-100) for brute-force neuron removal.
"""

from __future__ import annotations

import torch
from torch import nn

from ...checks import check_choice

HIDDEN_ACTIVATIONS = ("sigmoid", "relu", "tanh", "identity")
OUTPUT_ACTIVATIONS = ("sigmoid", "identity")
ERRORS = ("sse", "ce")


class SigmoidMLP(nn.Module):
    """Fully connected net, logistic sigmoid on every hidden and output unit, 0/1 masks on hidden neurons.

    `init_range=r` draws weights and biases from U(-r, r) (the paper's nets use r = 1); None keeps PyTorch's
    default. `activation`, `out_activation` and `error` default to the paper's sigmoid / sigmoid / SSE.
    """

    def __init__(
        self,
        sizes,
        init_range: float | None = None,
        activation: str = "sigmoid",
        out_activation: str = "sigmoid",
        error: str = "sse",
    ):
        super().__init__()
        if len(sizes) < 3:
            raise ValueError(f"a net with hidden neurons needs at least 3 sizes, got {list(sizes)}")
        check_choice("activation", activation, HIDDEN_ACTIVATIONS)
        check_choice("out_activation", out_activation, OUTPUT_ACTIVATIONS)
        check_choice("error", error, ERRORS)
        if error == "ce" and out_activation != "identity":
            raise ValueError("error='ce' works on logits: use out_activation='identity'")
        self.sizes = [int(s) for s in sizes]
        self.activation, self.out_activation, self.error = activation, out_activation, error
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        if init_range is not None:
            with torch.no_grad():
                for layer in self.layers:
                    layer.weight.uniform_(-init_range, init_range)
                    layer.bias.uniform_(-init_range, init_range)

    @classmethod
    def from_linears(cls, linears, activation="relu", out_activation="identity", error="ce") -> SigmoidMLP:
        """A copy of a stack of nn.Linear layers (e.g. LeNet-300-100's fc1..fc3) as a maskable net."""
        linears = list(linears)
        sizes = [linears[0].in_features] + [m.out_features for m in linears]
        net = cls(sizes, activation=activation, out_activation=out_activation, error=error)
        w = linears[0].weight
        net.to(w.device, w.dtype)
        with torch.no_grad():
            for mine, theirs in zip(net.layers, linears):
                mine.weight.copy_(theirs.weight)  # the effective (masked) weight when theirs is pruned
                mine.bias.copy_(theirs.bias)
        return net

    @property
    def hidden_sizes(self) -> list[int]:
        """Neurons per hidden layer."""
        return self.sizes[1:-1]

    def full_masks(self) -> list[torch.Tensor]:
        """All-True masks, one per hidden layer."""
        dev = self.layers[0].weight.device
        return [torch.ones(n, dtype=torch.bool, device=dev) for n in self.hidden_sizes]

    def forward(self, x: torch.Tensor, masks=None) -> torch.Tensor:
        """Outputs o (sigmoid units; logits for error='ce') with the hidden neurons of `masks` switched off."""
        return masked_pass(self, x.flatten(1), masks)[2]


def activate(name: str, z: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Apply the activation `name` to z (in place when allowed)."""
    if name == "sigmoid":
        return z.sigmoid_() if inplace else torch.sigmoid(z)
    if name == "relu":
        return z.relu_() if inplace else torch.relu(z)
    if name == "tanh":
        return z.tanh_() if inplace else torch.tanh(z)
    return z


def masked_pass(net: SigmoidMLP, x: torch.Tensor, masks=None):
    """(pre-activations a_1..a_L, masked hidden outputs h_1..h_{L-1}, outputs) of one masked pass."""
    a, h = [net.layers[0](x)], []
    for i, layer in enumerate(net.layers[1:]):
        out = activate(net.activation, a[-1])
        if masks is not None:
            out = out * masks[i].to(out.dtype)
        h.append(out)
        a.append(layer(out))
    return a, h, activate(net.out_activation, a[-1])


def checked_masks(net: SigmoidMLP, masks):
    """`masks` as bool tensors, or all-True masks when None (checked against the hidden sizes)."""
    if masks is None:
        return net.full_masks()
    masks = [torch.as_tensor(m).bool() for m in masks]
    if [len(m) for m in masks] != net.hidden_sizes:
        raise ValueError(
            f"masks of sizes {[len(m) for m in masks]} do not fit hidden sizes {net.hidden_sizes}"
        )
    return masks


def sample_errors(net: SigmoidMLP, out: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Per-sample error E_n from the outputs: 1/2 sum_i (o_i - t_i)^2 ("sse"), or cross-entropy from logits."""
    if net.error == "sse":
        return 0.5 * (out - T).square().sum(-1)
    return torch.logsumexp(out, -1) - (out * T).sum(-1)


def target_labels(T: torch.Tensor) -> torch.Tensor:
    """Class labels of targets: argmax for several outputs, t > 0.5 for one output."""
    return T.argmax(1) if T.shape[1] > 1 else (T[:, 0] > 0.5).long()


def predicted_labels(out: torch.Tensor, net: SigmoidMLP) -> torch.Tensor:
    """Predicted labels: argmax for several outputs, o > 0.5 for one sigmoid output (logit > 0 for 'ce')."""
    if out.shape[1] > 1:
        return out.argmax(1)
    return (out[:, 0] > (0.5 if net.out_activation == "sigmoid" else 0.0)).long()


@torch.no_grad()
def error(net: SigmoidMLP, X: torch.Tensor, T: torch.Tensor, masks=None, batch: int = 16384) -> float:
    """E = sum_n E_n over (X, T) with `masks` (the SSE for the paper's nets), summed in float64."""
    total = 0.0
    for i in range(0, len(X), batch):
        out = net(X[i : i + batch], masks)
        total += sample_errors(net, out, T[i : i + batch].to(out.dtype)).sum(dtype=torch.float64).item()
    return total


@torch.no_grad()
def sse(net: SigmoidMLP, X: torch.Tensor, T: torch.Tensor, masks=None) -> float:
    """Sum of squared errors 1/2 sum_n sum_i (o_ni - t_ni)^2 with `masks`, summed in float64."""
    out = net(X, masks)
    return 0.5 * (out - T.to(out.dtype)).square().sum(dtype=torch.float64).item()


@torch.no_grad()
def mlp_accuracy(net: SigmoidMLP, X: torch.Tensor, T: torch.Tensor, masks=None) -> float:
    """Classification accuracy of a masked net on 0/1 targets: argmax for several outputs, o > 0.5 for one."""
    return (predicted_labels(net(X, masks), net) == target_labels(T)).double().mean().item()


def one_hot(y: torch.Tensor, n_classes: int = 10, dtype=torch.float32) -> torch.Tensor:
    """0/1 target rows for class labels."""
    return torch.nn.functional.one_hot(y.long(), n_classes).to(dtype)
