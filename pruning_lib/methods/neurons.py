"""Whole-neuron removal without retraining: serial brute force vs Taylor criteria (Wolfe et al. 2017).

A hidden neuron k is removed by setting its output to 0 (mask m_k = 0). Each criterion estimates dE_k, the change
of the summed error E when k goes; the smallest signed dE goes first (ties: lowest (layer, index)).

* brute force ("bf"): the exact dE. Removing k of hidden layer l changes only the next pre-activation, by the
  rank-1 term -h_l[:, k] W_{l+1}[:, k]^T, so every candidate is scored at once from cached activations
  (`bf_scores`), in chunks of at most `chunk` elements, float32 with float64 sums; `bf_scores_naive` runs one
  masked forward pass per candidate (the authors' way, the reference).
* 1st / 2nd-order Taylor ("taylor1" / "taylor2"): dE1 = sum_n -O g, dE2 = dE1 + 1/2 sum_n O^2 H, with
  g = dE_n/dO exact and H = d2E_n/dO^2 from the paper's diagonal second-order backprop (`backprop2`); H is exact
  for the last hidden layer. `legacy=True` mimics the authors' Java code instead (spec section 4).
* schedules: "single" (Alg I, score once, remove in ascending order) or "rerank" (Alg II, re-score after every
  removal). `prune` returns the removal order and the error / accuracy curves (length K + 1).

The net is `SigmoidMLP` (sigmoid hidden and output units, SSE, as in the paper); the activation, the output
activation and the per-sample error ("sse" or "ce") are attributes, so `SigmoidMLP.from_linears` also wraps the
Linear layers of an ordinary ReLU / cross-entropy model (e.g. LeNet-300-100) for brute-force neuron removal, and
`remove_neurons` turns the result into `torch.nn.utils.prune` masks on that model. For example (LeNet-300-100;
for LeNet-5's fc1 units wrap [fc1, fc2] and feed `model.features(x)`):

    net = SigmoidMLP.from_linears([model.fc1, model.fc2, model.fc3])      # ReLU, logits, cross-entropy
    res = prune(net, X.flatten(1), one_hot(y), "bf", "rerank", eval_sets={"test": (Xt.flatten(1), one_hot(yt))})
    remove_neurons(model, ["fc1", "fc2", "fc3"], res.masks_after(n))       # the knob: n neurons removed
    res.history()                                                           # one row per removal

The Taylor criteria are defined for the paper's sigmoid / SSE nets only.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..checks import check_choice
from ..data import Batches
from ..masks import apply_masks, prunable_layers
from ..train import fit, progress

CRITERIA = ("bf", "taylor1", "taylor2")
SCHEDULES = ("single", "rerank")
HIDDEN_ACTIVATIONS = ("sigmoid", "relu", "tanh", "identity")
OUTPUT_ACTIVATIONS = ("sigmoid", "identity")
ERRORS = ("sse", "ce")
# elements of the (width, candidates, samples) brute-force tensor per chunk: about cache-sized (notebook 04, §5)
DEFAULT_CHUNK = 2**20


# --- the net -----------------------------------------------------------------------------------------------


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
        return _forward(self, x.flatten(1), masks)[2]


def _act(name: str, z: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Apply the activation `name` to z (in place when allowed)."""
    if name == "sigmoid":
        return z.sigmoid_() if inplace else torch.sigmoid(z)
    if name == "relu":
        return z.relu_() if inplace else torch.relu(z)
    if name == "tanh":
        return z.tanh_() if inplace else torch.tanh(z)
    return z


def _forward(net: SigmoidMLP, x: torch.Tensor, masks=None):
    """(pre-activations a_1..a_L, masked hidden outputs h_1..h_{L-1}, outputs) of one masked pass."""
    a, h = [net.layers[0](x)], []
    for i, layer in enumerate(net.layers[1:]):
        out = _act(net.activation, a[-1])
        if masks is not None:
            out = out * masks[i].to(out.dtype)
        h.append(out)
        a.append(layer(out))
    return a, h, _act(net.out_activation, a[-1])


def _masks(net: SigmoidMLP, masks):
    """`masks`, or all-True masks when None (checked against the hidden sizes)."""
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


def _labels(T: torch.Tensor) -> torch.Tensor:
    """Class labels of targets: argmax for several outputs, t > 0.5 for one output."""
    return T.argmax(1) if T.shape[1] > 1 else (T[:, 0] > 0.5).long()


def _predict(out: torch.Tensor, net: SigmoidMLP) -> torch.Tensor:
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
def accuracy(net: SigmoidMLP, X: torch.Tensor, T: torch.Tensor, masks=None) -> float:
    """Classification accuracy: argmax for multi-output nets, o > 0.5 for one-output nets."""
    return (_predict(net(X, masks), net) == _labels(T)).double().mean().item()


def mean_sse_loss(out: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of E_n = 1/2 sum_i (o_i - t_i)^2 (the training loss for `pl.train.fit`)."""
    return 0.5 * (out - T).square().sum(1).mean()


def fit_sse(
    net: SigmoidMLP,
    X,
    T,
    *,
    epochs: float,
    lr: float,
    batch_size: int,
    seed: int = 0,
    desc: str = "train",
    progress_bar: bool = True,
):
    """Adam (constant learning rate, no weight decay) on the batch mean of E_n; per-epoch history DataFrame."""
    return fit(
        net,
        (X, T),
        epochs=epochs,
        batch_size=batch_size,
        opt="adam",
        lr=lr,
        weight_decay=0.0,
        schedule="constant",
        loss_fn=mean_sse_loss,
        seed=seed,
        desc=desc,
        progress_bar=progress_bar,
    )


def fit_until(
    net: SigmoidMLP,
    X,
    T,
    *,
    lr: float,
    batch_size: int = 600,
    check_every: int = 10,
    target_acc: float = 0.95,
    max_epochs: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Plain SGD on the batch mean of E_n; stop at the first check (every `check_every` batches) whose training-set
    accuracy reaches `target_acc`, or after `max_epochs` (the project's reproducible "under-trained" net)."""
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    batches = Batches(X, T, batch_size, shuffle=True, seed=seed)
    history, step = [], 0
    for _ in range(max_epochs):
        for xb, tb in batches:
            loss = mean_sse_loss(net(xb), tb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % check_every == 0:
                history.append({"step": step, "epoch": step / len(batches), "train_acc": accuracy(net, X, T)})
                if history[-1]["train_acc"] >= target_acc:
                    return pd.DataFrame(history)
    return pd.DataFrame(history)


def one_hot(y: torch.Tensor, n_classes: int = 10, dtype=torch.float32) -> torch.Tensor:
    """0/1 target rows for class labels."""
    return torch.nn.functional.one_hot(y.long(), n_classes).to(dtype)


# --- neuron ids, counts ------------------------------------------------------------------------------------


def neuron_ids(sizes) -> list[tuple[int, int]]:
    """(hidden layer, index) of every hidden neuron in global order (layer-major; layer 0 = first hidden)."""
    return [(layer, k) for layer, n in enumerate(list(sizes)[1:-1]) for k in range(n)]


def masks_from_removed(sizes, removed, device=None) -> list[torch.Tensor]:
    """Per-layer keep-masks with the global neuron ids in `removed` switched off."""
    hidden = list(sizes)[1:-1]
    flat = torch.ones(sum(hidden), dtype=torch.bool, device=device)
    flat[torch.as_tensor(list(removed), dtype=torch.long, device=device)] = False
    return list(flat.split(hidden))


def param_counts(net_or_sizes, masks=None) -> dict:
    """Weights and all parameters (weights + biases), total and left, of an MLP with hidden neurons removed.

    A removed neuron takes its incoming weights, its bias and its outgoing weights with it.
    """
    sizes = net_or_sizes.sizes if isinstance(net_or_sizes, SigmoidMLP) else list(net_or_sizes)
    alive = [sizes[0]] + ([int(m.sum()) for m in masks] if masks is not None else sizes[1:-1]) + [sizes[-1]]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    weights_nz = sum(a * b for a, b in zip(alive[:-1], alive[1:]))
    params, params_nz = weights + sum(sizes[1:]), weights_nz + sum(alive[1:])
    ratio = lambda t, n: float("inf") if n == 0 else t / n  # noqa: E731
    return {
        "neurons": sum(sizes[1:-1]),
        "neurons_left": sum(alive[1:-1]),
        "weights": weights,
        "weights_nonzero": weights_nz,
        "params": params,
        "params_nonzero": params_nz,
        "compression_weights": ratio(weights, weights_nz),
        "compression_params": ratio(params, params_nz),
    }


# --- a data set prepared for many masked passes --------------------------------------------------------------


class Prepared:
    """(X, T) ready for repeated masked passes: a_1 = X W_1^T + b_1 and its activation are computed once.

    Arrays are kept feature-major, (width, N): the brute-force kernels run faster in that layout.
    """

    @torch.no_grad()
    def __init__(self, net: SigmoidMLP, X: torch.Tensor, T: torch.Tensor, batch: int = 16384):
        W, b = net.layers[0].weight, net.layers[0].bias
        X = X.flatten(1)
        self.net, self.n = net, len(X)
        self.a1t = torch.cat(
            [torch.addmm(b[:, None], W, X[i : i + batch].to(W).t()) for i in range(0, len(X), batch)], 1
        )
        self.f1t = _act(net.activation, self.a1t)
        self.T = T.to(W)
        self.Tt = self.T.t().contiguous()
        self.labels = _labels(self.T)

    @torch.no_grad()
    def run_t(self, masks):
        """Feature-major (a_l^T, f_l^T, out^T) of the masked pass: pre-activations, UNMASKED hidden activations
        f_l = act(a_l) and outputs. Each layer's input mask is folded into its weight: a_{l+1} = (W m_l) f_l + b."""
        net = self.net
        a, f = [self.a1t], []
        for i, layer in enumerate(net.layers[1:]):
            f.append(self.f1t if i == 0 else _act(net.activation, a[-1]))
            W = layer.weight * masks[i].to(layer.weight.dtype)
            a.append(torch.addmm(layer.bias[:, None], W, f[-1]))
        return a, f, _act(net.out_activation, a[-1])

    def run(self, masks):
        """Sample-major (a, h, out) of the masked pass, h_l = f_l m_l (views and copies of `run_t`)."""
        a, f, out = self.run_t(masks)
        h = [(x * m.to(x.dtype)[:, None]).t() for x, m in zip(f, masks)]
        return [x.t() for x in a], h, out.t()

    def taylor_terms(self, layer: int, f_t):
        """(f, f^2, s'(a), s''(a)) of hidden layer `layer` from its activation f = s(a); cached for the first
        hidden layer, whose activation never changes."""
        if layer == 0 and hasattr(self, "_terms1"):
            return self._terms1
        f = f_t[layer]
        sp = f * (1 - f)
        terms = (f, f.square(), sp, sp * (1 - 2 * f))
        if layer == 0:
            self._terms1 = terms
        return terms

    @torch.no_grad()
    def evaluate(self, masks) -> tuple[float, float]:
        """(E, accuracy) with `masks`."""
        out = self.run_t(masks)[2]  # (n_out, N)
        if out.shape[0] > 1:
            pred = out.t().contiguous().argmax(1)  # much faster than a reduction over the strided dim 0
        else:
            pred = (out[0] > (0.5 if self.net.out_activation == "sigmoid" else 0.0)).long()
        acc = (pred == self.labels).double().mean().item()
        if self.net.error == "sse":
            E = 0.5 * (out - self.Tt).square().sum(0, dtype=torch.float64).sum().item()
        else:
            E = (torch.logsumexp(out, 0) - (out * self.Tt).sum(0)).sum(dtype=torch.float64).item()
        return E, acc


# --- brute force ---------------------------------------------------------------------------------------------


def _rank1_errors(net, a_next, U, V, upper, Tt, base, chunk):
    """sum_n [E_n(a_next + V[c] U[c]^T) - base_n] for every candidate c (float64), in chunks over samples.

    Feature-major: a_next (w, N) is the next layer's pre-activation; U (C or 1, N) and V (C, w) the rank-1 change
    of each candidate; upper: [(W with its input mask folded in, b)] of the layers above; Tt (n_out, N) the
    targets; base the current errors, (o - t)^2 per element (n_out, N) for SSE or E_n (N,) for cross-entropy, or
    None (absolute errors). Differences are formed per element in float32 (small numbers, little rounding) and
    summed in float64 across chunks. The (w, C, rows) candidate tensor holds at most ~`chunk` elements.
    """
    C, N = V.shape[0], a_next.shape[1]
    widths = [a_next.shape[0]] + [W.shape[0] for W, _ in upper]
    rows = max(1, min(N, chunk // max(1, C * max(widths))))
    bufs = [torch.empty(C * rows * w, dtype=a_next.dtype, device=a_next.device) for w in widths]
    Vt = V.t()[:, :, None]  # (w, C, 1)
    total = torch.zeros(C, dtype=torch.float64, device=a_next.device)
    for s in range(0, N, rows):
        e = min(N, s + rows)
        n = e - s
        Z = torch.addcmul(
            a_next[:, None, s:e], Vt, U[None, :, s:e], out=bufs[0][: widths[0] * C * n].view(-1, C, n)
        )
        for (W, b), buf in zip(upper, bufs[1:]):
            flat = _act(net.activation, Z, inplace=True).view(Z.shape[0], -1)
            Z = torch.addmm(b[:, None], W, flat, out=buf[: W.shape[0] * C * n].view(W.shape[0], -1)).view(
                -1, C, n
            )
        Z = _act(net.out_activation, Z, inplace=True)
        if net.error == "sse":
            Z.sub_(Tt[:, None, s:e]).square_()
            if base is not None:
                Z.sub_(base[:, None, s:e])
            total += 0.5 * Z.sum(0).sum(-1).double()
        else:
            En = torch.logsumexp(Z, 0) - (Z * Tt[:, None, s:e]).sum(0)  # (C, n)
            if base is not None:
                En.sub_(base[None, s:e])
            total += En.sum(-1).double()
    return total


def _upper(net: SigmoidMLP, masks, layer: int):
    """(W, b) of the layers above hidden layer `layer`+1, each with its input mask folded into the weight."""
    return [
        (net.layers[j + 1].weight * masks[j].to(net.layers[j + 1].weight), net.layers[j + 1].bias)
        for j in range(layer + 1, len(masks))
    ]


@torch.no_grad()
def bf_scores(net: SigmoidMLP, X, T, masks=None, chunk: int | None = None, prepared: Prepared | None = None):
    """Exact dE_k = E(m with k off) - E(m) for every hidden neuron (0 for removed ones), all at once per layer."""
    masks = _masks(net, masks)
    prep = prepared or Prepared(net, X, T)
    a, f, out = prep.run_t(masks)
    base = (out - prep.Tt).square() if net.error == "sse" else sample_errors(net, out.t(), prep.T)
    scores = []
    for layer, m in enumerate(masks):
        s = torch.zeros(len(m), dtype=torch.float64, device=m.device)
        alive = torch.nonzero(m).flatten()
        if len(alive):
            W = net.layers[layer + 1].weight
            U = f[layer] if len(alive) == len(m) else f[layer].index_select(0, alive)  # (|A|, N)
            upper = _upper(net, masks, layer)
            s[alive] = _rank1_errors(
                net, a[layer + 1], U, -W[:, alive].t(), upper, prep.Tt, base, chunk or DEFAULT_CHUNK
            )
        scores.append(s)
    return scores


@torch.no_grad()
def bf_scores_naive(net: SigmoidMLP, X, T, masks=None):
    """Reference brute force: one full masked forward pass per alive candidate (the authors' method)."""
    masks = _masks(net, masks)
    E0 = error(net, X, T, masks)
    scores = []
    for layer, m in enumerate(masks):
        s = torch.zeros(len(m), dtype=torch.float64, device=m.device)
        for k in torch.nonzero(m).flatten().tolist():
            trial = [x.clone() for x in masks]
            trial[layer][k] = False
            s[k] = error(net, X, T, trial) - E0
        scores.append(s)
    return scores


@torch.no_grad()
def gain_curve(net: SigmoidMLP, X, T, masks, neuron, alphas, chunk: int | None = None) -> torch.Tensor:
    """E(alpha) when the output of `neuron` ((layer, index) or global id) is scaled by each alpha (float64)."""
    masks = _masks(net, masks)
    layer, k = neuron if isinstance(neuron, tuple) else neuron_ids(net.sizes)[neuron]
    prep = Prepared(net, X, T)
    a, f, _ = prep.run_t(masks)
    W = net.layers[layer + 1].weight
    alphas = torch.as_tensor(alphas, dtype=W.dtype, device=W.device)
    V = (alphas - 1)[:, None] * W[:, k][None, :]  # (n_alpha, w)
    U = (f[layer][k] * masks[layer][k].to(f[layer].dtype))[None, :]  # (1, N): broadcast over the alphas
    upper = _upper(net, masks, layer)
    return _rank1_errors(net, a[layer + 1], U, V, upper, prep.Tt, None, chunk or DEFAULT_CHUNK)


# --- Taylor criteria: the paper's second-order backprop -----------------------------------------------------


def _check_taylor(net: SigmoidMLP) -> None:
    """The Taylor criteria need the paper's net: sigmoid hidden and output units, SSE."""
    if (net.activation, net.out_activation, net.error) != ("sigmoid", "sigmoid", "sse"):
        raise ValueError("the Taylor criteria are defined for sigmoid units and SSE (the paper's nets)")


@torch.no_grad()
def backprop2(
    net: SigmoidMLP, X, T, masks=None, legacy: bool = False, prepared: Prepared | None = None
) -> dict:
    """Per-sample h, g = dE_n/dh, H = diag d2E_n/dh^2, delta, s per hidden layer (sigmoid net, SSE).

    Paper: g_l = W_{l+1}^T delta_{l+1}, H_l = (W_{l+1}^2)^T s_{l+1}, delta_l = m g_l s'(a_l),
    s_l = m (H_l s'(a_l)^2 + g_l s''(a_l)), from delta_L = (o-t) s'(a_L), s_L = s'(a_L)^2 + (o-t) s''(a_L).
    legacy=True: the authors' code (spec section 4, items 1-4); then `g` holds delta (which their score uses).
    The plain, per-sample reference; `taylor_scores` computes the same sums without per-sample tensors.
    """
    _check_taylor(net)
    masks = _masks(net, masks)
    prep = prepared or Prepared(net, X, T)
    a, h, o = prep.run(masks)
    r = o - prep.T
    d1 = o * (1 - o)
    delta = r * d1
    s = d1 * (1 - 2 * o) if legacy else d1.square() + r * d1 * (1 - 2 * o)
    out = {"h": h, "g": [None] * len(masks), "H": [None] * len(masks), "delta": [None] * len(masks)}
    out["s"] = [None] * len(masks)
    for layer in reversed(range(len(masks))):
        W = net.layers[layer + 1].weight
        m = masks[layer].to(W.dtype)
        sig = torch.sigmoid(a[layer])
        sp = sig * (1 - sig)
        spp = sp * (1 - 2 * sig)
        H = s @ W.square()
        if legacy:
            delta_l = m * sp * h[layer] * delta.sum(1, keepdim=True)
            g = delta_l
        else:
            g = delta @ W
            delta_l = m * g * sp
        s = m * (H * sp.square() + g * spp)
        delta = delta_l
        out["g"][layer], out["H"][layer], out["delta"][layer], out["s"][layer] = g, H, delta, s
    return out


@torch.no_grad()
def taylor_scores(net: SigmoidMLP, X, T, masks=None, order: int = 2, legacy: bool = False, prepared=None):
    """Estimated dE per hidden neuron (0 for removed ones): order 1: sum_n -O g; order 2: + 1/2 sum_n O^2 H.

    The same numbers as summing `backprop2` (float64 result), computed feature-major without per-sample
    tensors for the score itself: sum_n O g = column sums of ((delta_{l+1} f_l^T) * W_{l+1}) and
    sum_n O^2 H = column sums of ((s_{l+1} (f_l^2)^T) * W_{l+1}^2), masked afterwards (f_l is the unmasked
    activation); per-sample g, H are formed only to feed the layer below.
    """
    if order not in (1, 2):
        raise ValueError(f"order={order!r} must be 1 or 2")
    _check_taylor(net)
    masks = _masks(net, masks)
    prep = prepared or Prepared(net, X, T)
    a, f_t, o = prep.run_t(masks)  # feature-major (width, N)
    r = o - prep.Tt
    d1 = o * (1 - o)
    delta = r * d1
    s = d1 * (1 - 2 * o) if legacy else d1.square() + r * d1 * (1 - 2 * o)
    scores = [None] * len(masks)
    for layer in reversed(range(len(masks))):
        W = net.layers[layer + 1].weight
        m = masks[layer].to(W.dtype)
        f, f2, sp, spp = prep.taylor_terms(layer, f_t)
        below = layer > 0
        if (
            legacy
        ):  # delta_l = m s'(a_l) O_l c with c = sum_i delta_{l+1,i}; the score uses it in place of dE/dO
            c = delta.sum(0)
            score = -((sp * f2) @ c)
        else:
            score = -((delta @ f.t()) * W).sum(0)
        if order == 2:
            score = score + 0.5 * ((s @ f2.t()) * W.square()).sum(0)
        scores[layer] = (score * m).double()
        if below:
            m = m[:, None]
            if legacy:
                delta_l = m * sp * f * c[None, :]
                s = m * ((W.square().t() @ s) * sp.square() + delta_l * spp)
                delta = delta_l
            else:
                g = W.t() @ delta
                if order == 2:
                    s = m * ((W.square().t() @ s) * sp.square() + g * spp)
                delta = m * g * sp
    return scores


# --- the pruning loop -------------------------------------------------------------------------------------------


@dataclass
class PruneResult:
    """Removal order (global neuron ids) and the error / accuracy curves after 0..K removals."""

    order: list[int]
    sse: list[float]  # E on the pruning set (the SSE for the paper's nets; summed cross-entropy for 'ce')
    acc: list[float]
    eval_curves: dict = field(default_factory=dict)  # name -> {"sse": [...], "acc": [...]}
    seconds: float = 0.0
    criterion: str = "bf"
    schedule: str = "rerank"
    legacy_taylor: bool = False
    sizes: list[int] = field(default_factory=list)

    @property
    def layers(self) -> list[int]:
        """Hidden layer (0 = first) of each removed neuron, in removal order."""
        ids = neuron_ids(self.sizes)
        return [ids[g][0] for g in self.order]

    def masks_after(self, n: int) -> list[torch.Tensor]:
        """Keep-masks after the first `n` removals (the method's one knob)."""
        return masks_from_removed(self.sizes, self.order[:n])

    def history(self) -> pd.DataFrame:
        """One row per step: the neuron removed, error and accuracy (pruning set and eval sets), counts left."""
        ids = neuron_ids(self.sizes)
        rows = []
        for step in range(len(self.sse)):
            g = self.order[step - 1] if step else None
            c = param_counts(self.sizes, self.masks_after(step))
            row = {
                "removed": step,
                "neuron": g,
                "layer": None if g is None else ids[g][0] + 1,
                "index": None if g is None else ids[g][1],
                "sse": self.sse[step],
                "acc": self.acc[step],
            }
            for name, cur in self.eval_curves.items():
                row[f"{name}_sse"], row[f"{name}_acc"] = cur["sse"][step], cur["acc"][step]
            row |= {
                k: c[k] for k in ("neurons_left", "weights_nonzero", "params_nonzero", "compression_weights")
            }
            rows.append(row)
        return pd.DataFrame(rows).astype({"neuron": "Int64", "layer": "Int64", "index": "Int64"})

    def to_dict(self) -> dict:
        """Plain data (for the cache)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict) -> PruneResult:
        """Inverse of `to_dict`."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


def _select_legacy_rerank(s: torch.Tensor, alive: torch.Tensor) -> int:
    """The authors' Alg II rule: the maximum score among alive neurons with |score| <= median(|score|)."""
    med = s[alive].abs().median()
    eligible = alive & (s.abs() <= med)
    return int(torch.where(eligible, s, torch.tensor(-float("inf"), dtype=s.dtype)).argmax())


@torch.no_grad()
def prune(
    net: SigmoidMLP,
    X,
    T,
    criterion: str = "bf",
    schedule: str = "rerank",
    legacy_taylor: bool = False,
    eval_sets: dict | None = None,
    *,
    naive: bool = False,
    chunk: int | None = None,
    steps: int | None = None,
    progress_bar: bool = True,
    desc: str | None = None,
) -> PruneResult:
    """Remove hidden neurons one at a time (no retraining), by `criterion` under `schedule`, down to none.

    `eval_sets` {name: (X, T)} get curves along the same order (e.g. the test set); `naive` scores brute force
    with one forward pass per candidate; `steps` stops early (curves then have steps + 1 points).
    """
    check_choice("criterion", criterion, CRITERIA)
    check_choice("schedule", schedule, SCHEDULES)
    t0 = time.perf_counter()
    masks = net.full_masks()
    K = sum(net.hidden_sizes)
    steps = K if steps is None else min(steps, K)
    legacy = legacy_taylor and criterion != "bf"
    prep = Prepared(net, X, T)
    evals = {name: Prepared(net, Xe, Te) for name, (Xe, Te) in (eval_sets or {}).items()}
    curves = {name: {"sse": [], "acc": []} for name in evals}
    sse_curve, acc_curve, order = [], [], []

    def record():
        E, A = prep.evaluate(masks)
        sse_curve.append(E)
        acc_curve.append(A)
        for name, p in evals.items():
            E, A = p.evaluate(masks)
            curves[name]["sse"].append(E)
            curves[name]["acc"].append(A)

    def score() -> torch.Tensor:
        if criterion == "bf":
            parts = bf_scores_naive(net, X, T, masks) if naive else bf_scores(net, X, T, masks, chunk, prep)
        else:
            parts = taylor_scores(net, X, T, masks, 1 if criterion == "taylor1" else 2, legacy, prep)
        return torch.cat(parts).cpu()

    record()
    if schedule == "single":
        queue = torch.sort(score(), descending=legacy, stable=True).indices.tolist()
    bar = progress(
        total=steps, desc=desc or f"{criterion} {schedule}", **({} if progress_bar else {"disable": True})
    )
    for step in range(steps):
        if schedule == "rerank":
            s = score()
            alive = torch.cat(masks).cpu()
            if legacy:
                k = _select_legacy_rerank(s, alive)
            else:
                k = int(torch.where(alive, s, torch.tensor(float("inf"), dtype=s.dtype)).argmin())
        else:
            k = queue[step]
        layer, idx = neuron_ids(net.sizes)[k]
        masks[layer][idx] = False
        order.append(k)
        record()
        bar.update(1)
    bar.close()
    return PruneResult(
        order=order,
        sse=sse_curve,
        acc=acc_curve,
        eval_curves=curves,
        seconds=time.perf_counter() - t0,
        criterion=criterion,
        schedule=schedule,
        legacy_taylor=legacy,
        sizes=list(net.sizes),
    )


# --- curve summaries -----------------------------------------------------------------------------------------


def n_within(acc, drop: float) -> int:
    """Neurons removable before accuracy first falls more than `drop` below acc[0]: (first m >= 1 below) - 1."""
    acc = np.asarray(acc)
    below = np.nonzero(acc[1:] < acc[0] - drop)[0]
    return int(below[0]) if len(below) else len(acc) - 1


def n_sse5(sse) -> int:
    """(First m with SSE(m) > SSE(0) + 5% of (SSE(K) - SSE(0))) - 1; K when never."""
    sse = np.asarray(sse)
    above = np.nonzero(sse[1:] > sse[0] + 0.05 * (sse[-1] - sse[0]))[0]
    return int(above[0]) if len(above) else len(sse) - 1


def n_below_start(sse) -> int:
    """The last m such that SSE(m') <= SSE(0) for every m' <= m."""
    sse = np.asarray(sse)
    above = np.nonzero(sse > sse[0])[0]
    return int(above[0]) - 1 if len(above) else len(sse) - 1


def curve_summary(sse, acc) -> dict:
    """n_1pp, n_5pp and n_sse5 of one pair of curves."""
    return {"n_1pp": n_within(acc, 0.01), "n_5pp": n_within(acc, 0.05), "n_sse5": n_sse5(sse)}


# --- export to torch.nn.utils.prune masks on an ordinary model ---------------------------------------------


def neuron_keep_masks(model: nn.Module, layer_names, masks) -> dict[str, torch.Tensor]:
    """Weight keep-masks that delete hidden neurons: row k of the layer that makes neuron k, column k of the next.

    `layer_names` are the Linear layers of a stack; masks[i] (True = keep) belongs to the output of layer i.
    """
    layers = prunable_layers(model)
    out = {}
    for i, name in enumerate(layer_names):
        W = layers[name].weight
        keep = torch.ones(W.shape, dtype=torch.bool, device=W.device)
        if i < len(masks):
            keep &= masks[i].to(W.device)[:, None]
        if i > 0:
            keep &= masks[i - 1].to(W.device)[None, :]
        out[name] = keep
    return out


@torch.no_grad()
def remove_neurons(model: nn.Module, layer_names, masks, zero_bias: bool = True) -> nn.Module:
    """Delete hidden neurons of `model` in place as torch.nn.utils.prune weight masks (ANDed with existing ones).

    The bias of a removed neuron is set to 0 (zero_bias): it then counts as removed, and it stays 0 under any
    retraining because its gradient is exactly 0 once the neuron's outgoing weights are masked.
    """
    apply_masks(model, neuron_keep_masks(model, layer_names, masks))
    if zero_bias:
        layers = prunable_layers(model)
        for name, m in zip(layer_names, masks):
            if layers[name].bias is not None:
                layers[name].bias[~m.to(layers[name].bias.device)] = 0.0
    return model


def to_pruned_module(net: SigmoidMLP, masks) -> SigmoidMLP:
    """A copy of `net` whose removed neurons are torch.nn.utils.prune masks (unmasked forward = masked net)."""
    names = [f"layers.{i}" for i in range(len(net.layers))]
    return remove_neurons(copy.deepcopy(net), names, _masks(net, masks))


def layer_names_of(model: nn.Module) -> list[str]:
    """Names of the Linear layers of `model` in definition order (the stack `from_linears` expects)."""
    return [name for name, m in prunable_layers(model).items() if isinstance(m, nn.Linear)]
