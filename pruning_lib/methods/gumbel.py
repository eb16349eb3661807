"""Gumbel-softmax gates: Zhang, Tao, Zhang 2023, "Neural Network Pruning by Gradient Descent" (arXiv:2311.12526).

Every `nn.Linear` weight W gets two logits per connection, theta_0 ("keep") and theta_1 ("drop"), held by a
`torch.nn.utils.parametrize` parametrization, `GumbelGate`. In "sample" mode each forward pass draws one hard
0/1 mask per layer by the Gumbel-max trick, with the straight-through gradient of the Gumbel-softmax at
temperature tau; the loss adds lambda x D_hat, the density of an independent hard sample at tau = 1. After
training the mask is the argmax M* = 1[theta_0 >= theta_1] (a tie keeps), with no retraining, and
`export_pruned` turns the network into an ordinary model with torch.nn.utils.prune masks.

Speed: a two-channel Gumbel-softmax depends only on delta = theta_0 - theta_1. With L = G_0 - G_1, which is
Logistic(0, 1) (L = log u - log(1 - u), one uniform u per weight), the hard sample is 1[delta + L >= 0] and
channel 0 of the soft sample is sigmoid((delta + L) / tau): the same distribution and the same straight-through
gradient as `F.gumbel_softmax(logits, tau, hard=True)[..., 0]` (tests/test_gumbel.py checks both), with one
random number per weight and no softmax over a size-2 axis. The gate parameter `theta` is stored as
(2, *weight.shape), so theta_0, theta_1 and their gradients are contiguous blocks; `GumbelGate.logits` is its
(*weight.shape, 2) view, the layout of the authors' code and of F.gumbel_softmax.

Entry points for other notebooks: `prune_lenet300(lam, train, epochs=..., test=...)` trains a gated
LeNet-300-100 from scratch and returns (an ordinary LeNet300100 with prune masks M*, per-epoch history);
`cached_lenet300(lam, profile, epochs=..., seed=2050)` does the same on the suite's MNIST split of `profile`,
cached under cache/gumbel-mnist/ (notebook 01's quick runs use epochs=10, seed=2050 and the defaults), and
`pl.magnitude.magnitude_at(dense, kept, train, test)` is the magnitude baseline at the same size. The knob is `lam`.
"""

from __future__ import annotations

import copy
import math
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ..checks import check_choice, check_range
from ..data import Batches, gumbel_toy
from ..masks import apply_masks, export_state, load_state
from .magnitude import global_magnitude_masks, magnitude_at  # noqa: F401 (magnitude_at re-exported)
from ..models import MLP, LeNet300100, build_model
from ..dense import profile_data, reference_config
from ..train import evaluate, fit, progress

MODES = ("sample", "argmax", "dense")
INITS = ("torch", "authors")
TOY_VERSION = 1  # bump when a code change alters the cached toy runs
MNIST_VERSION = 1  # the same for the cached MNIST runs
BASELINE_VERSION = 1  # the same for the cached magnitude baselines


# --- the binary form of the two-logit Gumbel-softmax --------------------------------------------------


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
        z = _z(theta, noise)
        ctx.tau = tau
        ctx.save_for_backward(z)
        return _keep(z)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        g = torch.ops.aten.sigmoid_backward(grad, _soft(z, ctx.tau)).mul_(1.0 / ctx.tau)
        return _theta_grad(g), None, None


class _GatedWeight(torch.autograd.Function):
    """W * m for a hard sample m in one step; backward: g * m for W, the straight-through g * W for the mask."""

    @staticmethod
    def forward(ctx, weight, theta, tau, noise):
        z = _z(theta, noise)
        keep = _keep(z)
        ctx.tau = tau
        ctx.save_for_backward(weight, z, keep)
        return weight * keep

    @staticmethod
    def backward(ctx, grad):
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
        z = _z(theta, noise)
        ctx.tau = tau
        ctx.save_for_backward(z)
        return torch.count_nonzero(z >= 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        s = _soft(z, ctx.tau)
        slope = s.sub_(s * s).mul_(grad / ctx.tau)  # s (1 - s) / tau, times the incoming scalar
        return _theta_grad(slope), None, None


# --- the gate ------------------------------------------------------------------------------------------


class GumbelGate(nn.Module):
    """Parametrization W -> W * mask with two logits per weight: channel 0 keeps, channel 1 drops.

    The parameter `theta` has shape (2, *W.shape) (theta_0 and theta_1 each contiguous); `logits` is its
    (*W.shape, 2) view. mode "sample": a fresh hard straight-through mask at every access of the weight;
    "argmax": M*; "dense": W unchanged.
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
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
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
        if self._mode == "dense":
            return weight
        if self._mode == "argmax":
            return weight * self.argmax_mask()
        return _GatedWeight.apply(weight, self.theta, self.tau, self.noise())

    def extra_repr(self) -> str:
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


def raw_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable (unmasked) weight of every gated layer, read without drawing a mask."""
    return {
        name: m.parametrizations.weight.original.detach()
        for name, m in model.named_modules()
        if parametrize.is_parametrized(m, "weight")
    }


# --- training ------------------------------------------------------------------------------------------


def adam(params, lr: float) -> torch.optim.Optimizer:
    """torch.optim.Adam (no weight decay), using the fused kernel where this PyTorch has one."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def _fork_devices(device: torch.device) -> list:
    return [device] if device.type == "cuda" else []


@torch.no_grad()
def sampled_eval(model: nn.Module, X, y, repeats: int, seed: int, metric=None) -> list[float]:
    """`metric(model, X, y)` (default: accuracy) for `repeats` independent sampled masks, one mask per pass.

    Runs on a private random stream seeded by `seed`, so evaluation never changes the training run.
    """
    metric = metric or (lambda m, a, b: evaluate(m, a, b)["acc"])
    device = next(model.parameters()).device
    out = []
    with gate_mode(model, "sample"), torch.random.fork_rng(devices=_fork_devices(device)):
        torch.manual_seed(seed)
        for _ in range(repeats):
            with parametrize.cached():  # one mask per layer for the whole pass
                out.append(metric(model, X, y))
    return out


def _gated_eval(model, test, repeats: int, seed: int) -> dict:
    """Test accuracy with M* and mean / std over sampled masks."""
    with gate_mode(model, "argmax"):
        row = {"acc_argmax": evaluate(model, *test)["acc"]}
    accs = sampled_eval(model, *test, repeats, seed) if repeats > 0 else []
    row["acc_sampled_mean"] = float(np.mean(accs)) if accs else float("nan")
    row["acc_sampled_std"] = float(np.std(accs)) if accs else float("nan")
    return row


def _density_row(gates) -> dict:
    kept = kept_counts(gates)
    return {
        "kept": sum(kept.values()),
        **{f"kept_{k}": v for k, v in kept.items()},
        "density_argmax": sum(kept.values()) / n_gated(gates),
        "density_expected": expected_density(gates),
    }


def lenet300_gated(seed: int = 2050, tau: float = 3.0, init: str = "torch"):
    """(model, gates): a fresh LeNet-300-100 drawn after torch.manual_seed(seed), every Linear gated."""
    torch.manual_seed(seed)
    model = LeNet300100()
    return model, gate_linears(model, tau, init)


def train_gated(
    model: nn.Module,
    train,
    *,
    lam: float,
    epochs: int,
    batch_size: int = 128,
    lr: float = 1e-2,
    tau_density: float = 1.0,
    seed: int = 2050,
    test=None,
    sample_repeats: int = 10,
    progress_bar: bool = True,
    desc: str = "gated",
) -> pd.DataFrame:
    """Minimise cross-entropy + lam * D_hat with one Adam over weights, biases and gate logits; per-epoch history.

    Each row: train CE, last-step D_hat, argmax kept count and density, expected density, seconds, and with
    `test` the test accuracy under M* and over `sample_repeats` sampled masks. Row 0 is the initial network.
    """
    check_range("lam", lam, 0.0)
    check_range("epochs", epochs, 0, integer=True)
    gates = gates_of(model)
    device = next(model.parameters()).device
    X, y = train
    batches = Batches(X, y, batch_size, shuffle=True, seed=seed)
    opt = adam(model.parameters(), lr)
    set_mode(gates, "sample")
    with torch.no_grad(), torch.random.fork_rng(devices=_fork_devices(device)):
        dhat0 = sampled_density(gates, tau_density).item()
    row = {"epoch": 0, "train_ce": float("nan"), "dhat_last": dhat0, **_density_row(gates), "seconds": 0.0}
    if test is not None:
        row.update(_gated_eval(model, test, sample_repeats, seed * 1000))
    history = [row]
    bar = progress(total=epochs * len(batches), desc=desc, **({} if progress_bar else {"disable": True}))
    for epoch in range(1, epochs + 1):
        model.train()
        t0, ce_sum = time.perf_counter(), torch.zeros((), device=device)
        for xb, yb in batches:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            ce = F.cross_entropy(model(xb), yb)
            dhat = sampled_density(gates, tau_density)
            loss = ce + lam * dhat if lam else ce
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ce_sum += ce.detach()
            bar.update(1)
        seconds = time.perf_counter() - t0
        row = {
            "epoch": epoch,
            "train_ce": ce_sum.item() / len(batches),
            "dhat_last": dhat.item(),
            **_density_row(gates),
            "seconds": seconds,
        }
        if test is not None:
            row.update(_gated_eval(model, test, sample_repeats, seed * 1000 + epoch))
        history.append(row)
        bar.set_postfix(kept=row["kept"], acc=f"{row.get('acc_argmax', float('nan')):.4f}")
    bar.close()
    set_mode(gates, "argmax")
    return pd.DataFrame(history)


GATED_TYPES = {"lenet300": (nn.Linear,), "lenet5": (nn.Linear, nn.Conv2d)}  # LeNet-5: convs gated too


def prune_model(
    name: str,
    lam: float,
    train,
    *,
    epochs: int,
    test=None,
    seed: int = 2050,
    batch_size: int = 128,
    lr: float = 1e-2,
    tau: float = 3.0,
    tau_density: float = 1.0,
    init: str = "torch",
    sample_repeats: int = 10,
    device="cpu",
    progress_bar: bool = True,
):
    """Train a gated `name` network from scratch with penalty `lam` -> (plain model with prune masks M*, history)."""
    torch.manual_seed(seed)
    model = build_model(name)
    gate_layers(model, tau, init, GATED_TYPES[name])
    model.to(device)
    hist = train_gated(
        model,
        train,
        lam=lam,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        tau_density=tau_density,
        seed=seed,
        test=test,
        sample_repeats=sample_repeats,
        progress_bar=progress_bar,
        desc=f"gumbel {name} lambda={lam:g}",
    )
    return export_pruned(model, copy_model=False), hist


def prune_lenet300(lam: float, train, *, epochs: int, **kwargs):
    """Train a gated LeNet-300-100 from scratch with penalty `lam` -> (plain model with prune masks M*, history)."""
    return prune_model("lenet300", lam, train, epochs=epochs, **kwargs)


def mnist_config(
    lam: float,
    profile: str,
    *,
    epochs: int,
    seed: int = 2050,
    device="cpu",
    model: str = "lenet300",
    **recipe,
) -> dict:
    """The cache key of one MNIST run: data split of `profile`, the recipe, lambda, seed and device type."""
    full = {
        "batch_size": 128,
        "lr": 1e-2,
        "tau": 3.0,
        "tau_density": 1.0,
        "init": "torch",
        "sample_repeats": 10,
        **recipe,
    }
    data = reference_config(model, profile)
    return {
        "version": MNIST_VERSION,
        "method": "gumbel",
        "model": model,
        "data": data["data"],
        "split_seed": data["split_seed"],
        "lam": float(lam),
        "epochs": epochs,
        "seed": seed,
        "device": torch.device(device).type,
        **full,
    }


def cached_model(
    name: str,
    lam: float,
    profile: str,
    *,
    epochs: int,
    seed: int = 2050,
    device="cpu",
    splits=None,
    progress_bar: bool = True,
    **recipe,
):
    """`prune_model` on the MNIST split of `profile`, cached -> (model with prune masks, history, cache hit)."""
    from ..cache import cached

    cfg = mnist_config(lam, profile, epochs=epochs, seed=seed, device=device, model=name, **recipe)

    def compute() -> dict:
        sp = splits if splits is not None else profile_data(profile)
        model, hist = prune_model(
            name,
            lam,
            sp.train,
            epochs=epochs,
            test=sp.test,
            seed=seed,
            device=device,
            progress_bar=progress_bar,
            **{k: cfg[k] for k in ("batch_size", "lr", "tau", "tau_density", "init", "sample_repeats")},
        )
        return {"model": export_state(model), "history": hist}

    payload, hit = cached("gumbel-mnist", cfg, compute)
    model = load_state(build_model(name), payload["model"]).to(device)
    return model, pd.DataFrame(payload["history"]), hit


def cached_lenet300(lam: float, profile: str, *, epochs: int, **kwargs):
    """`cached_model` for LeNet-300-100 (notebook 01's runs) -> (model with prune masks, history, cache hit)."""
    return cached_model("lenet300", lam, profile, epochs=epochs, **kwargs)


def epoch_seconds(
    train,
    *,
    lam: float = 1.0,
    batch_size: int = 128,
    lr: float = 1e-2,
    tau: float = 3.0,
    tau_density: float = 1.0,
    seed: int = 0,
    device="cpu",
) -> dict:
    """Seconds of one training epoch of LeNet-300-100, plain and gated, with the same loop, batches and Adam."""
    device = torch.device(device)
    out = {}
    with torch.random.fork_rng(devices=_fork_devices(device)):
        for kind in ("dense", "gated"):
            torch.manual_seed(seed)
            model = LeNet300100()
            gates = gate_linears(model, tau) if kind == "gated" else []
            model.to(device)
            opt = adam(model.parameters(), lr)
            _sync(device)
            t0 = time.perf_counter()
            for xb, yb in Batches(*train, batch_size, shuffle=True, seed=seed):
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                loss = F.cross_entropy(model(xb), yb)
                if gates:
                    loss = loss + lam * sampled_density(gates, tau_density)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            _sync(device)
            out[kind] = time.perf_counter() - t0
    out["ratio"] = out["gated"] / out["dense"]
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- the authors' toy task -------------------------------------------------------------------------------

TOY_INPUTS = ("x1", "x2", "x3", "x4")
TOY_OUTPUTS = ("y1", "y2")


def toy_model(seed: int = 2050, tau: float = 3.0, init: str = "authors"):
    """(model, gates): the 4-10-10-2 SiLU MLP of the authors' tutorial, drawn after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    model = MLP([4, 10, 10, 2], activation="silu")
    return model, gate_linears(model, tau, init)


def train_toy(
    steps: int,
    *,
    seed: int = 2050,
    lam: float = 0.01,
    lr: float = 0.01,
    tau: float = 3.0,
    tau_density: float = 1.0,
    log_every: int = 10,
    test_every: int = 50,
    progress_bar: bool = True,
):
    """The authors' tutorial: L1 + lam * D_hat, full-batch Adam; returns (model, history DataFrame, data).

    Logged every `log_every` steps: train L1, D_hat, argmax and expected density; every `test_every`: test MSE
    with a sampled mask (as the authors' code logs it) and with M*.
    """
    check_range("steps", steps, 1, integer=True)
    torch.manual_seed(seed)
    (Xtr, Ytr), (Xte, Yte) = gumbel_toy(2000, seed)
    model, gates = toy_model(seed, tau)
    opt = adam(model.parameters(), lr)
    mse = lambda m, a, b: F.mse_loss(m(a), b).item()  # noqa: E731
    history = []
    for step in progress(range(1, steps + 1), desc="toy", **({} if progress_bar else {"disable": True})):
        l1 = F.l1_loss(model(Xtr), Ytr)
        dhat = sampled_density(gates, tau_density)
        loss = l1 + lam * dhat
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == steps:
            row = {"step": step, "train_l1": l1.item(), "dhat": dhat.item(), **_density_row(gates)}
            if step % test_every == 0 or step == steps:
                row["test_mse_sampled"] = sampled_eval(model, Xte, Yte, 1, seed * 100_000 + step, mse)[0]
                with gate_mode(gates, "argmax"), torch.no_grad():
                    row["test_mse_argmax"] = mse(model, Xte, Yte)
            history.append(row)
    set_mode(gates, "argmax")
    return model, pd.DataFrame(history), {"train": (Xtr, Ytr), "test": (Xte, Yte)}


# --- graph analysis of the kept connections ------------------------------------------------------------


def _mask_list(masks) -> list[torch.Tensor]:
    """Masks as a list of bool (out x in) tensors in layer order (from a dict or a list)."""
    ms = list(masks.values()) if isinstance(masks, dict) else list(masks)
    return [m.detach().cpu().bool() for m in ms]


def effective_edges(masks) -> list[torch.Tensor]:
    """Kept edges that lie on some input -> output path (source reachable from an input, target reaching an output)."""
    ms = _mask_list(masks)
    if not ms:
        return []
    fwd = [torch.ones(ms[0].shape[1], dtype=torch.bool)]
    for m in ms:
        fwd.append((m.double() @ fwd[-1].double()) > 0)
    bwd = [torch.ones(ms[-1].shape[0], dtype=torch.bool)]
    for m in reversed(ms):
        bwd.insert(0, (m.double().T @ bwd[0].double()) > 0)
    return [m & bwd[i + 1][:, None] & fwd[i][None, :] for i, m in enumerate(ms)]


def path_counts(masks) -> torch.Tensor:
    """P = A_1 A_2 ... A_L with A_l = M_l^T: the number of input -> output paths (inputs x outputs, int64)."""
    ms = _mask_list(masks)
    p = ms[0].double().T
    for m in ms[1:]:
        p = p @ m.double().T
    return p.round().long()


def components(masks) -> list[dict]:
    """Connected components of the undirected graph of the given edges (nodes = (layer, unit)), largest first.

    Each: {"nodes": {layer: [units]}, "inputs": [...], "outputs": [...], "edges": int}; isolated units are left out.
    """
    ms = _mask_list(masks)
    if not ms:
        return []
    sizes = [ms[0].shape[1]] + [m.shape[0] for m in ms]
    offsets = np.cumsum([0] + sizes)
    parent = list(range(int(offsets[-1])))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    edges = []
    for layer, m in enumerate(ms):
        idx = torch.nonzero(m).numpy()
        for out_u, in_u in idx:
            a, b = int(offsets[layer] + in_u), int(offsets[layer + 1] + out_u)
            edges.append(a)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    touched = set()
    for layer, m in enumerate(ms):
        touched.update(int(offsets[layer] + u) for u in torch.nonzero(m.any(0)).flatten().tolist())
        touched.update(int(offsets[layer + 1] + u) for u in torch.nonzero(m.any(1)).flatten().tolist())
    comps: dict[int, dict] = {}
    for node in sorted(touched):
        layer = int(np.searchsorted(offsets, node, side="right") - 1)
        c = comps.setdefault(find(node), {"nodes": {}, "inputs": [], "outputs": [], "edges": 0})
        c["nodes"].setdefault(layer, []).append(node - int(offsets[layer]))
    for a in edges:
        comps[find(a)]["edges"] += 1
    last = len(ms)
    for c in comps.values():
        c["inputs"] = c["nodes"].get(0, [])
        c["outputs"] = c["nodes"].get(last, [])
    return sorted(comps.values(), key=lambda c: (-c["edges"], c["outputs"], c["inputs"]))


def split_check(masks, groups=((0, 1), (2, 3)), effective: bool = True) -> dict:
    """The toy's split check: one component per output, output j fed by exactly the inputs groups[j], all paths.

    Pass iff (1) exactly len(groups) components contain an output, (2) output j's component holds exactly the
    inputs groups[j], (3) every input of groups[j] has a path to output j. On effective edges by default.
    """
    ms = effective_edges(masks) if effective else _mask_list(masks)
    comps = components(ms)
    with_output = [c for c in comps if c["outputs"]]
    p = path_counts(ms)
    ok = len(with_output) == len(groups)
    for j, group in enumerate(groups):
        mine = [c for c in with_output if j in c["outputs"]]
        ok = ok and len(mine) == 1 and sorted(mine[0]["inputs"]) == sorted(group)
        ok = ok and all(p[i, j] > 0 for i in group)
    return {
        "ok": bool(ok),
        "components_with_output": len(with_output),
        "edges_per_component": [c["edges"] for c in with_output],
        "inputs_per_component": [c["inputs"] for c in with_output],
        "outputs_per_component": [c["outputs"] for c in with_output],
    }


def pixel_importance(mask1: torch.Tensor, shape=(28, 28)) -> torch.Tensor:
    """Kept first-layer edges per input pixel (the first layer's mask summed over hidden units), as an image."""
    return mask1.detach().cpu().long().sum(0).reshape(shape)


def sign_symmetry(weight1: torch.Tensor, mask1: torch.Tensor) -> dict:
    """First-layer units fed by both x1 and x2 (and how many with opposite signs), and by x3 and x4 (same sign)."""
    w = (weight1.detach().cpu() * mask1.cpu()).numpy()
    both12 = (w[:, 0] != 0) & (w[:, 1] != 0)
    both34 = (w[:, 2] != 0) & (w[:, 3] != 0)
    return {
        "units_x1_x2": int(both12.sum()),
        "units_x1_x2_opposite_sign": int((both12 & (np.sign(w[:, 0]) != np.sign(w[:, 1]))).sum()),
        "units_x3_x4": int(both34.sum()),
        "units_x3_x4_same_sign": int((both34 & (np.sign(w[:, 2]) == np.sign(w[:, 3]))).sum()),
    }


# --- drawing the kept graph ------------------------------------------------------------------------------


def layer_orders(masks, sweeps: int = 4, drop_unused: bool = False) -> list[list[int]]:
    """Left-to-right unit order per layer: by the lowest output a unit's component holds, then by the barycentre
    of its neighbours (a few up and down sweeps). Outputs keep their order; units without a path to an output
    go to the right end, and units without any edge are dropped when `drop_unused` (outputs are always kept).
    """
    ms = _mask_list(masks)
    last = len(ms)
    sizes = [ms[0].shape[1]] + [m.shape[0] for m in ms]
    rank = [np.full(n, np.inf) for n in sizes]
    rank[last] = np.arange(sizes[last], dtype=float)
    for c in components(ms):
        if c["outputs"]:
            for layer, units in c["nodes"].items():
                if layer < last:
                    rank[layer][units] = float(min(c["outputs"]))
    pos = [np.linspace(0.0, 1.0, n) for n in sizes]
    mats = [m.numpy().astype(float) for m in ms]  # layer l: out(l + 1) x in(l)
    for _ in range(sweeps):
        for layer in list(range(last - 1, -1, -1)) + list(range(1, last)):
            num, deg = mats[layer].T @ pos[layer + 1], mats[layer].sum(0)
            if layer > 0:
                num, deg = num + mats[layer - 1] @ pos[layer - 1], deg + mats[layer - 1].sum(1)
            bary = np.where(deg > 0, num / np.maximum(deg, 1), pos[layer])
            order = np.lexsort((bary, rank[layer]))
            pos[layer][order] = np.linspace(0.0, 1.0, len(order))
    orders = []
    for layer in range(last + 1):
        order = [int(u) for u in np.argsort(pos[layer], kind="stable")]
        if drop_unused and layer < last:
            used = mats[layer].sum(0) > 0
            if layer > 0:
                used |= mats[layer - 1].sum(1) > 0
            order = [u for u in order if used[u]]
        orders.append(order)
    return orders


def plot_pathways(
    ax,
    weights,
    masks,
    *,
    input_labels=None,
    output_labels=None,
    effective_only: bool = False,
    drop_unused: bool = False,
    layer_names=None,
    cmap: str = "RdBu_r",
    label_fontsize: float = 8,
    max_edges: int = 5000,
):
    """Draw the kept graph layer by layer (inputs at the bottom), edges coloured by signed weight centred at 0.

    Returns the ScalarMappable for a colour bar, or None when there is nothing to draw (no edge, or more than
    `max_edges`): a note is drawn instead.
    """
    from matplotlib import cm
    from matplotlib import colors as mcolors
    from matplotlib.collections import LineCollection

    ms = effective_edges(masks) if effective_only else _mask_list(masks)
    ws = [w.detach().cpu() for w in (weights.values() if isinstance(weights, dict) else weights)]
    ax.set_axis_off()
    n_edges = sum(int(m.sum()) for m in ms)
    if n_edges == 0 or n_edges > max_edges:
        note = (
            "no edges to draw"
            if n_edges == 0
            else f"{n_edges:,} edges: too many to draw (limit {max_edges:,})"
        )
        ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)
        return None
    orders = layer_orders(ms, drop_unused=drop_unused)
    xs = []
    for order in orders:
        n = len(order)
        x = {u: (i + 0.5) / n for i, u in enumerate(order)}
        xs.append(x)
    segs, vals = [], []
    for layer, (m, w) in enumerate(zip(ms, ws)):
        for out_u, in_u in torch.nonzero(m).tolist():
            if in_u in xs[layer] and out_u in xs[layer + 1]:
                segs.append([(xs[layer][in_u], layer), (xs[layer + 1][out_u], layer + 1)])
                vals.append(float(w[out_u, in_u]))
    lim = max((abs(v) for v in vals), default=1.0) or 1.0
    norm = mcolors.TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    lc = LineCollection(segs, cmap=cmap, norm=norm, linewidths=1.2, alpha=0.9)
    lc.set_array(np.asarray(vals))
    ax.add_collection(lc)
    for layer, x in enumerate(xs):
        if x:
            ax.scatter(list(x.values()), [layer] * len(x), s=18 if len(x) < 60 else 6, c="0.2", zorder=3)
    labels = {0: input_labels, len(ms): output_labels}
    for layer, lab in labels.items():
        if lab is None:
            continue
        off = -0.12 if layer == 0 else 0.12
        for u, x in xs[layer].items():
            ax.text(
                x,
                layer + off,
                lab[u] if not callable(lab) else lab(u),
                ha="center",
                va="top" if layer == 0 else "bottom",
                fontsize=label_fontsize,
                rotation=90 if len(xs[layer]) > 12 else 0,
            )
    for layer, name in enumerate(layer_names or []):
        ax.text(-0.02, layer, name, ha="right", va="center", fontsize=9, transform=ax.get_yaxis_transform())
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6 if input_labels is None else -1.0, len(ms) + 0.5)
    return cm.ScalarMappable(norm=norm, cmap=cmap)


def compression(kept: int, total: int) -> float:
    """total / kept (infinite when nothing is kept)."""
    return math.inf if kept == 0 else total / kept
