"""Pruned models as real inference models: compacted dense layers, sparse CSR layers, and latency timing.

* `compact(model)` removes dead units physically: a hidden unit (or conv filter) whose outgoing weights are all
  zero is dropped; one whose incoming weights are all zero emits a constant, which is folded into the next
  layer's bias and the unit dropped; unread inputs (pixels) are dropped by an index_select. The result computes
  the same function with smaller dense matrices.
* `sparse(model)` keeps the architecture but stores every weight as a torch sparse CSR matrix (convolutions
  through unfold + sparse matmul).
* `timed_rounds` times several models in the same shuffled rounds (pinned threads, warm-up calls), so that the
  ratios between them are measured under the same conditions; `noise_floor` and `speed_verdict` judge a
  speedup against controls that should be exactly as fast as dense.
* `export(model, path)` writes the compact model as a `torch.export` program that loads and runs without
  pruning_lib (`torch.export.load(path).module()`).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .files import atomic_write
from .masks import clone, remove_masks
from .models import MLP, LeNet5, LeNet300100


def plain_copy(model: nn.Module) -> nn.Module:
    """A copy of `model` with masks made permanent (ordinary parameters holding the masked values), in eval mode."""
    return remove_masks(clone(model)).eval()


def _linear_chain(model: nn.Module) -> tuple[list[nn.Linear], list[str]]:
    """The Linear layers and hidden activations of LeNet300100 or an MLP."""
    if isinstance(model, LeNet300100):
        return [model.fc1, model.fc2, model.fc3], ["relu", "relu"]
    if isinstance(model, MLP):
        mods = list(model)
        lins = [m for m in mods if isinstance(m, nn.Linear)]
        acts = [type(mods[mods.index(lin) + 1]).__name__.lower() for lin in lins[:-1]]
        return lins, acts
    raise TypeError(f"compact() supports LeNet300100, MLP and LeNet5, not {type(model).__name__}")


_ACT = {"relu": F.relu, "sigmoid": torch.sigmoid, "silu": F.silu, "tanh": torch.tanh, "identity": lambda x: x}


class CompactMLP(nn.Module):
    """A chain of smaller dense Linear layers reading only the used input features."""

    def __init__(
        self, inputs: torch.Tensor, layers: list[nn.Linear], acts: list[str], out_act: str = "identity"
    ):
        super().__init__()
        self.register_buffer("inputs", inputs)
        self.layers = nn.ModuleList(layers)
        self.acts, self.out_act = acts, out_act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gather the used inputs, then one addmm per layer (F.linear, no module dispatch), ReLU in place."""
        x = x.flatten(1).index_select(1, self.inputs)
        for layer, act in zip(self.layers[:-1], self.acts):
            x = F.linear(x, layer.weight, layer.bias)
            x = x.relu_() if act == "relu" else _ACT[act](x)
        return _ACT[self.out_act](F.linear(x, self.layers[-1].weight, self.layers[-1].bias))


def _compact_chain(ws: list[torch.Tensor], bs: list[torch.Tensor], acts: list[str]):
    """Drop dead units of a Linear chain given weights/biases; returns (kept inputs, weights, biases)."""
    ws, bs = [w.clone() for w in ws], [b.clone() for b in bs]
    keep_in = torch.arange(ws[0].shape[1])
    for i in range(len(ws) - 1):  # hidden layer i feeds layer i + 1
        const = ws[i].abs().sum(1) == 0
        bs[i + 1] += ws[i + 1][:, const] @ _ACT[acts[i]](bs[i][const])  # fold constant units downstream
        alive = ~const & (ws[i + 1].abs().sum(0) > 0)
        ws[i], bs[i] = ws[i][alive], bs[i][alive]
        ws[i + 1] = ws[i + 1][:, alive]
    used = ws[0].abs().sum(0) > 0
    return keep_in[used], [ws[0][:, used], *ws[1:]], bs


class ConstantOutput(nn.Module):
    """A network whose every path from the input is cut: the same output for every image."""

    def __init__(self, value: torch.Tensor):
        super().__init__()
        self.register_buffer("value", value.detach().reshape(1, -1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The constant output, once per image of the batch."""
        return self.value.expand(x.shape[0], -1)


def compact(model: nn.Module) -> nn.Module:
    """The same function as `model` (masks applied) with dead units physically removed."""
    model = plain_copy(model)
    if isinstance(model, LeNet5):
        small = _compact_lenet5(model)
        if small.conv1.out_channels and small.conv2.out_channels:
            return small
        with torch.no_grad():  # no conv filter left in some layer: the output no longer depends on the image
            return ConstantOutput(model(torch.zeros(1, 1, 28, 28))).eval()
    lins, acts = _linear_chain(model)
    with torch.no_grad():
        inputs, ws, bs = _compact_chain([m.weight for m in lins], [m.bias for m in lins], acts)
    layers = []
    for w, b in zip(ws, bs):
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(w), lin.bias.copy_(b)
        layers.append(lin)
    out_act = type(list(model)[-1]).__name__.lower() if isinstance(model, MLP) else "identity"
    return CompactMLP(inputs, layers, acts, out_act).eval()


class CompactLeNet5(nn.Module):
    """LeNet-5 with fewer conv filters and fc units (constants of dead filters folded into biases)."""

    def __init__(
        self, conv1: nn.Conv2d, conv2: nn.Conv2d, feats: torch.Tensor, fc1: nn.Linear, fc2: nn.Linear
    ):
        super().__init__()
        self.conv1, self.conv2, self.fc1, self.fc2 = conv1, conv2, fc1, fc2
        self.register_buffer("feats", feats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same computation as LeNet5's: channels-last, pooling before the ReLU (the function is unchanged)."""
        x = F.relu(F.max_pool2d(self.conv1(x.contiguous(memory_format=torch.channels_last)), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2)).flatten(1).index_select(1, self.feats)
        return self.fc2(F.relu(self.fc1(x)))


def _conv(w: torch.Tensor, b: torch.Tensor) -> nn.Conv2d:
    conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[-1])
    with torch.no_grad():
        conv.weight.copy_(w), conv.bias.copy_(b)
    return conv.to(memory_format=torch.channels_last)  # as LeNet5: the dense model it is timed against


@torch.no_grad()
def _compact_lenet5(m: LeNet5) -> nn.Module:
    """Compact LeNet-5: conv1 filters, conv2 filters, flattened features and fc1 units."""
    w1, b1, w2, b2 = (
        m.conv1.weight.clone(),
        m.conv1.bias.clone(),
        m.conv2.weight.clone(),
        m.conv2.bias.clone(),
    )
    f1w, f1b, f2w, f2b = m.fc1.weight.clone(), m.fc1.bias.clone(), m.fc2.weight.clone(), m.fc2.bias.clone()
    # conv1 filter c: constant map relu(b1[c]) if its kernel is zero (valid conv: every position sees all taps)
    const1 = w1.flatten(1).abs().sum(1) == 0
    b2 += (w2[:, const1].sum((2, 3)) * F.relu(b1[const1])).sum(1)
    alive1 = ~const1 & (w2.abs().sum((0, 2, 3)) > 0)
    w1, b1, w2 = w1[alive1], b1[alive1], w2[:, alive1]
    # conv2 filter c feeds 16 flattened features c*16 ... c*16+15; a zero kernel makes them constant relu(b2[c])
    hw = 16
    const2 = w2.flatten(1).abs().sum(1) == 0
    const_feats = const2.repeat_interleave(hw)
    f1b += f1w[:, const_feats] @ F.relu(b2[const2]).repeat_interleave(hw)
    f1w[:, const_feats] = 0
    alive2 = ~const2 & (f1w.view(f1w.shape[0], -1, hw).abs().sum((0, 2)) > 0)
    feat_alive = alive2.repeat_interleave(hw)
    w2, b2, f1w = w2[alive2], b2[alive2], f1w[:, feat_alive]
    # within the kept filters, drop features no fc1 unit reads
    used = f1w.abs().sum(0) > 0
    feats = torch.arange(int(alive2.sum()) * hw)[used]
    f1w = f1w[:, used]
    inputs, (f1w, f2w), (f1b, f2b) = _compact_chain([f1w, f2w], [f1b, f2b], ["relu"])
    fc1, fc2 = nn.Linear(f1w.shape[1], f1w.shape[0]), nn.Linear(f2w.shape[1], f2w.shape[0])
    fc1.weight.copy_(f1w), fc1.bias.copy_(f1b), fc2.weight.copy_(f2w), fc2.bias.copy_(f2b)
    return CompactLeNet5(_conv(w1, b1), _conv(w2, b2), feats[inputs], fc1, fc2).eval()


def to_csr(w: torch.Tensor) -> torch.Tensor:
    """A 2-D dense tensor as sparse CSR (PyTorch's 'beta' warning silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return w.detach().to_sparse_csr()


class SparseLinear(nn.Module):
    """y = x W^T + b with W stored as a sparse CSR matrix."""

    def __init__(self, lin: nn.Linear):
        super().__init__()
        self.register_buffer("weight", to_csr(lin.weight))
        self.register_buffer("bias", lin.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.weight @ x.t()).t() + self.bias


class SparseConv2d(nn.Module):
    """A stride-1, unpadded conv as unfold + sparse CSR matmul."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if conv.stride != (1, 1) or conv.padding != (0, 0) or conv.groups != 1:
            raise ValueError("SparseConv2d handles stride 1, no padding, groups 1")
        self.k, self.c_out = conv.kernel_size[0], conv.out_channels
        self.register_buffer("weight", to_csr(conv.weight.flatten(1)))
        self.register_buffer("bias", conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        cols = F.unfold(x, self.k)  # (n, C*k*k, L)
        out = self.weight @ cols.transpose(0, 1).reshape(cols.shape[1], -1)  # (C_out, n*L)
        ho, wo = h - self.k + 1, w - self.k + 1
        return out.view(self.c_out, n, ho, wo).transpose(0, 1) + self.bias.view(1, -1, 1, 1)


def sparse(model: nn.Module) -> nn.Module:
    """A copy of `model` whose Linear/Conv2d weights are sparse CSR matrices (same function)."""
    model = plain_copy(model)
    for mod in list(model.modules()):
        for child_name, child in list(mod.named_children()):
            if isinstance(child, nn.Linear):
                setattr(mod, child_name, SparseLinear(child))
            elif isinstance(child, nn.Conv2d):
                setattr(mod, child_name, SparseConv2d(child))
    return model.eval()


def param_count(model: nn.Module) -> int:
    """Stored numbers of a (compacted or sparse) inference model: dense parameters and buffers, CSR nonzeros."""
    n = 0
    for t in list(model.parameters()) + list(model.buffers()):
        n += (
            t.values().numel()
            if t.layout == torch.sparse_csr
            else (t.numel() if t.is_floating_point() else 0)
        )
    return n


def _calls_per_block(model: nn.Module, x: torch.Tensor, block_s: float) -> int:
    """How many forward calls fill about `block_s` seconds (from one timed call after the warm-up)."""
    t0 = time.perf_counter()
    model(x)
    return max(1, round(block_s / max(time.perf_counter() - t0, 1e-7)))


def timed_rounds(
    models: dict, batch: int, *, reference: str = "dense", input_shape=(1, 28, 28), warmup: int = 10,
    rounds: int = 7, block_s: float = 0.02, threads: int | None = None, seed: int = 0,
) -> dict:  # fmt: skip
    """Per model: seconds per call in each of `rounds` shuffled rounds, and per-round speedups over `reference`.

    Threads are pinned (`threads`, default: as set) for the whole measurement; every model gets `warmup` calls
    first. In each round the models run in a fresh random order, one block of calls each, so drift and order
    effects hit all of them alike; a speedup is the reference's time over the model's in the same round.
    """
    if reference not in models or rounds < 1 or warmup < 0:
        raise ValueError(f"need the reference {reference!r} among the models, rounds >= 1 and warmup >= 0")
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        x = torch.rand(batch, *input_shape)
        with torch.inference_mode():
            for m in models.values():
                for _ in range(warmup):
                    m(x)
            number = {name: _calls_per_block(m, x, block_s) for name, m in models.items()}
            times = {name: [] for name in models}
            order, rng = list(models), random.Random(seed)
            for _ in range(rounds):
                rng.shuffle(order)
                for name in order:
                    t0 = time.perf_counter()
                    for _ in range(number[name]):
                        models[name](x)
                    times[name].append((time.perf_counter() - t0) / number[name])
        threads_used = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    ref = times[reference]
    out = {}
    for name, t in times.items():
        ratios = [r / m for r, m in zip(ref, t)]
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        out[name] = {"median_s": statistics.median(t), "spread_s": max(t) - min(t), "speedup": statistics.median(ratios),
                     "speedup_q25": q[0], "speedup_q75": q[2], "round_speedups": ratios}  # fmt: skip
    return {"models": out, "threads": threads_used, "rounds": rounds, "warmup": warmup, "batch": batch}


def noise_floor(control_speedups) -> float:
    """The largest deviation from 1 among the median speedups of controls that should be exactly as fast as dense."""
    return max(abs(r - 1.0) for r in control_speedups)


def speed_verdict(speedup: float, floor: float) -> str:
    """'faster' when a median speedup clears 1 + floor, 'slower' when it falls below 1 - floor, else 'noise'."""
    if speedup > 1.0 + floor:
        return "faster"
    if speedup < 1.0 - floor:
        return "slower"
    return "noise"


def compact_macs(model: nn.Module, input_shape=(1, 28, 28)) -> int:
    """Multiply-adds of one image through a model's dense layers (Linear and Conv2d, zeros included).

    A Linear costs in x out whatever calls it; a Conv2d's cost depends on its output size, read by a forward hook.
    """
    convs = []

    def hook(mod, inp, out):
        convs.append(mod.weight.numel() * out[0, 0].numel())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.inference_mode():
            model(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    return int(sum(convs) + linear)


@contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (the profiler library's start/stop lines and its GPU probe) inside the block."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def forward_profile(model: nn.Module, batch: int, input_shape=(1, 28, 28), calls: int = 200) -> list[dict]:
    """Where a forward pass spends its time: operators by self CPU time per call (torch.profiler), largest first."""
    from torch.profiler import ProfilerActivity, profile

    x = torch.rand(batch, *input_shape)
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(calls):
                model(x)
    rows = [{"operator": e.key, "calls_per_forward": e.count / calls, "self_us_per_forward": e.self_cpu_time_total / calls}
            for e in prof.key_averages()]  # fmt: skip
    return sorted(rows, key=lambda r: -r["self_us_per_forward"])


def traced(model: nn.Module, input_shape=(1, 28, 28)) -> nn.Module:
    """`model` as a frozen TorchScript trace: one graph, no Python or module dispatch per call (a batch-1 remedy)."""
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript's deprecation and tracer notices
        return torch.jit.freeze(torch.jit.trace(model.eval(), torch.rand(2, *input_shape)))


def export(model: nn.Module, path, input_shape=(1, 28, 28)) -> Path:
    """Write the compact form of `model` as a `torch.export` program with a dynamic batch size; returns the path.

    The file loads and runs without pruning_lib: `torch.export.load(path).module()(x)`.
    """
    small = compact(model)
    batch = torch.export.Dim("batch", min=1, max=2**16)
    try:
        program = torch.export.export(small, (torch.rand(2, *input_shape),), dynamic_shapes=({0: batch},))
    except RuntimeError as e:  # e.g. a convolution left with no filter: the model is a constant
        raise ValueError(
            f"the compact model cannot be exported ({e}); is every unit of a layer removed?"
        ) from e
    path = Path(path)
    with atomic_write(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="No complete tensor found"
        )  # torch's note for CPU-only weights
        torch.export.save(program, tmp)
    return path


def load_exported(path) -> nn.Module:
    """The module of a program written by `export` (plain torch)."""
    return torch.export.load(Path(path)).module()
