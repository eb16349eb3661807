"""CIFAR-10 for NNrelief (Dekhovich et al. 2024, Sec. 4: VGG-like and ResNet-20).

In-memory tensors normalised with ImageNet statistics (as the authors do), their training-time crop and flip, a
small synthetic CIFAR-shaped stand-in for the smoke tests, the schedules of notebook 03's `cifar` switch (one
table) and `cifar_network`: pretrain (the suite's cached, checkpointed dense trainer, kaiming theta0), iterative
NNrelief (cached per iteration), then the operating point chosen on validation and its test numbers.
"""

from __future__ import annotations

import math
import time

import pandas as pd
import torch
from torch import nn

from ...cache import fingerprint
from ...checks import check_choice
from ...cifar10 import cifar10_dir
from ...data import MissingDataError, Splits, split_indices
from ...dense import train_dense
from ...paths import relpath
from .architecture import alive_units, layer_breakdown
from .inputs import pruning_set
from .loop import iterative_pruning
from .report import network_entry

CIFAR_MEAN = (0.485, 0.456, 0.406)  # the authors normalise CIFAR with ImageNet statistics
CIFAR_STD = (0.229, 0.224, 0.225)

CIFAR_MODES = (
    "auto",
    "off",
    "synthetic",
    "short",
    "paper",
)  # notebook 03's `cifar` switch (auto: the profile's)
CIFAR_NETS = {  # the authors' settings per network: one optimizer for pretraining and retraining, the alphas
    "vgg_like": {"opt": "adam", "lr": 1e-3, "alpha_conv": 0.95, "alpha_fc": 0.95},
    "resnet20": {"opt": "sgd", "lr": 0.1, "alpha_conv": 0.95, "alpha_fc": 0.99},
}
CIFAR_SCHEDULES = {  # per mode: data, VGG width, batch, pruning set, pretraining, iterations per network, retraining
    "synthetic": {"data": "synthetic", "vgg_width": 1 / 8, "batch_size": 40, "n_prune": 48, "dense_epochs": 2,
                  "dense_milestones": [], "iterations": {"vgg_like": 2, "resnet20": 2}, "epochs": 1,
                  "milestones": []},  # the smoke tests: tiny (small batches, so a few images give enough steps)
    "short": {"data": "cifar10", "vgg_width": 1, "batch_size": 120, "n_prune": 1000, "dense_epochs": 30,
              "dense_milestones": [15, 25], "iterations": {"vgg_like": 3, "resnet20": 3}, "epochs": 10,
              "milestones": [5]},  # sized for about 10 minutes on one GPU (not measured)
    "paper": {"data": "cifar10", "vgg_width": 1, "batch_size": 120, "n_prune": 1000, "dense_epochs": 150,
              "dense_milestones": [80, 120], "iterations": {"vgg_like": 6, "resnet20": 10}, "epochs": 60,
              "milestones": [20, 40]},  # the authors'
}  # fmt: skip


def load_cifar10(root=None, n_val: int = 5000, split_seed: int = 0) -> Splits:
    """CIFAR-10 as normalised in-memory tensors: 45k train / 5k validation (seeded) / 10k test; never downloads."""
    import torchvision  # optional heavy dependency, needed only here

    folder = cifar10_dir(root)
    if not folder.is_dir():
        raise MissingDataError(
            f"CIFAR-10 not found under {folder}; put torchvision's cifar-10-batches-py there (`make data CIFAR=1`)"
        )
    mean, std = torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR_STD).view(1, 3, 1, 1)

    def tensors(train):
        ds = torchvision.datasets.CIFAR10(str(folder.parent), train=train, download=False)
        X = torch.from_numpy(ds.data).permute(0, 3, 1, 2).float() / 255.0
        return (X - mean) / std, torch.tensor(ds.targets)

    X, y = tensors(True)
    tr, va = split_indices(len(y), n_val, split_seed)
    return Splits(train=(X[tr], y[tr]), val=(X[va], y[va]), test=tensors(False))


class CifarAugment(nn.Module):
    """Training-time RandomCrop(32, padding 4, black padding) and horizontal flip on normalised images."""

    def __init__(self, padding: int = 4):
        super().__init__()
        self.padding = padding
        self.register_buffer("fill", -torch.tensor(CIFAR_MEAN) / torch.tensor(CIFAR_STD), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        n, c, h, w = x.shape
        p = self.padding
        xp = self.fill.to(x).view(1, c, 1, 1).repeat(n, 1, h + 2 * p, w + 2 * p)
        xp[:, :, p : p + h, p : p + w] = x
        oy = torch.randint(0, 2 * p + 1, (n, 1), device=x.device) + torch.arange(h, device=x.device)
        ox = torch.randint(0, 2 * p + 1, (n, 1), device=x.device) + torch.arange(w, device=x.device)
        i = torch.arange(n, device=x.device)[:, None, None, None]
        ch = torch.arange(c, device=x.device)[None, :, None, None]
        out = xp[i, ch, oy[:, None, :, None], ox[:, None, None, :]]
        flip = torch.rand(n, device=x.device) < 0.5
        return torch.where(flip[:, None, None, None], out.flip(-1), out)

    def extra_repr(self) -> str:
        return f"padding={self.padding}"


def synthetic_cifar(n_train: int = 200, n_val: int = 80, n_test: int = 80, seed: int = 0) -> Splits:
    """A CIFAR-shaped stand-in (3 x 32 x 32, 10 classes, normalised scale): a class colour and a class stripe
    orientation at a random phase, under unit Gaussian noise; learnable above chance in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    n = n_train + n_val + n_test
    y = torch.randperm(n, generator=g) % 10
    colour = torch.randn(10, 3, generator=g)  # per-class mean colour
    angle = torch.arange(10) * math.pi / 10  # per-class stripe orientation
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    phase = 2 * math.pi * torch.rand(n, 1, 1, generator=g)
    along = xx * torch.cos(angle[y])[:, None, None] + yy * torch.sin(angle[y])[:, None, None]
    stripes = 0.6 * torch.cos(2 * math.pi * along / 8 + phase)  # period 8 pixels
    X = colour[y][:, :, None, None] + stripes[:, None] + torch.randn(n, 3, 32, 32, generator=g)
    a, b = n_train, n_train + n_val
    return Splits(train=(X[:a], y[:a]), val=(X[a:b], y[a:b]), test=(X[b:], y[b:]))


def cifar_mode(cifar: str, default: str) -> str:
    """The schedule the `cifar` switch names: the profile's `default` for "auto", else the switch itself."""
    check_choice("cifar", cifar, CIFAR_MODES)
    return (
        check_choice("cifar (the profile's default)", default, CIFAR_MODES[1:]) if cifar == "auto" else cifar
    )


def cifar_schedule(mode: str, name: str) -> dict:
    """The keywords of `cifar_network`'s training for network `name` under schedule `mode` (from the tables)."""
    if mode not in CIFAR_SCHEDULES or name not in CIFAR_NETS:
        raise ValueError(f"no CIFAR schedule for ({mode!r}, {name!r}): modes {list(CIFAR_SCHEDULES)}, "
                         f"networks {list(CIFAR_NETS)}")  # fmt: skip
    s = CIFAR_SCHEDULES[mode]
    width = s["vgg_width"] if name == "vgg_like" else 1
    return {**CIFAR_NETS[name], "model_kwargs": {"width": width} if width != 1 else {}, "n_prune": s["n_prune"],
            "batch_size": s["batch_size"], "dense_epochs": s["dense_epochs"], "dense_milestones": list(s["dense_milestones"]),
            "iterations": s["iterations"][name], "epochs": s["epochs"], "milestones": list(s["milestones"])}  # fmt: skip


def cifar_data(mode: str, root=None) -> tuple[Splits | None, str | None]:
    """(splits, None) for a mode that runs, or (None, the skip message): off, or CIFAR-10 missing on disk."""
    if mode == "off":
        return None, "SKIP D: CIFAR-10 is off (cifar='off', the quick profile's default); cifar=short runs it"
    if CIFAR_SCHEDULES[mode]["data"] == "synthetic":
        return synthetic_cifar(), None
    if not cifar10_dir(root).is_dir():
        return None, (f"SKIP D: CIFAR-10 not found under {relpath(cifar10_dir(root))}; "
                      "`make data CIFAR=1` fetches it (or says where to put it)")  # fmt: skip
    return load_cifar10(root), None


def _pretrain(name, splits, sched, dataset, seed, device, progress_bar):
    """The dense network: the authors' pretraining (kaiming theta0, crop and flip), cached and checkpointed."""
    recipe = dict(opt=sched["opt"], lr=sched["lr"], momentum=0.9, weight_decay=5e-4, batch_size=sched["batch_size"],
                  schedule="multistep", milestones=list(sched["dense_milestones"]))  # fmt: skip
    data_key = {
        "dataset": dataset,
        "data": fingerprint(splits.train[0][::97], splits.train[1]),
        "val": fingerprint(splits.val[0][::17], splits.val[1]),
    }
    return train_dense(
        name, splits, epochs=sched["dense_epochs"], recipe=recipe, data_key=data_key, seed=seed, device=device,
        model_kwargs=sched["model_kwargs"], init="kaiming_normal", augment=CifarAugment(),
        progress_bar=progress_bar,
    )  # fmt: skip


def cifar_network(name: str, splits: Splits, mode: str, *, rule: str, max_drop_pp: float, variant: str = "paper",
                  seed: int = 0, device="cpu", progress_bar: bool = True) -> tuple[dict, pd.DataFrame]:  # fmt: skip
    """(results.json entry, history) of one CIFAR network under schedule `mode`: pretrain, iterative NNrelief,
    the operating point on validation (`network_entry`, no target), per-layer numbers and alive channels there."""
    t0 = time.perf_counter()
    sched = cifar_schedule(mode, name)
    dataset = "cifar10" if CIFAR_SCHEDULES[mode]["data"] == "cifar10" else "synthetic_cifar10"
    dense, info = _pretrain(name, splits, sched, dataset, seed, device, progress_bar)
    prune_X, _ = pruning_set(splits.train, sched["n_prune"], seed)
    kw = dict(alpha_fc=sched["alpha_fc"], alpha_conv=sched["alpha_conv"], prune_X=prune_X, epochs=sched["epochs"],
              milestones=sched["milestones"], opt=sched["opt"], lr=sched["lr"], batch_size=sched["batch_size"],
              variant=variant, test=splits.test, seed=seed, augment=CifarAugment())  # fmt: skip

    def model_at(t):  # the model after iteration t, from the per-iteration cache (t = 0: dense)
        return dense if t == 0 else iterative_pruning(dense, splits.train, splits.val, iterations=t,
                                                      progress_bar=False, **kw)[0]  # fmt: skip

    _, hist = iterative_pruning(dense, splits.train, splits.val, iterations=sched["iterations"],
                                progress_bar=progress_bar, desc=f"NNrelief {name}", **kw)  # fmt: skip
    entry = network_entry(hist, dense, model_at, splits.test, info, max_drop_pp=max_drop_pp, rule=rule,
                          judged=False)  # fmt: skip
    t_op = entry["operating_point"]["iteration"]
    entry.update(schedule=sched, dense_train_seconds=info["train_seconds"],
                 per_layer=layer_breakdown(hist, t_op, dense), alive_channels=alive_units(model_at(t_op)),
                 seconds=time.perf_counter() - t0)  # fmt: skip
    return entry, hist


def cifar_schedule_table() -> pd.DataFrame:
    """Every CIFAR schedule of the tables, one row per (schedule, network)."""
    rows = [{"cifar": m, "network": n, **cifar_schedule(m, n)} for m in CIFAR_SCHEDULES for n in CIFAR_NETS]
    return pd.DataFrame(rows).set_index(["cifar", "network"])


def cifar_estimate(mode: str, device="cpu", train_images: int | None = None) -> pd.DataFrame:
    """Per network of schedule `mode`: its training epochs in all, one epoch measured on `device`, the estimate.

    The epoch is timed on the schedule's batch size and width (`pl.calibrate.measured_epoch`, 3 steps, cached per
    machine); `train_images` defaults to the schedule's data (45,000 CIFAR-10 images, or the synthetic set). The
    estimate counts training only (pretraining plus every iteration's retraining), not scoring or evaluation. On a
    CPU it adds this machine's GPU, measured the same way, or a row saying there is none to measure on.
    """
    from ...calibrate import device_name, measured_epoch
    from ...timings import duration

    images = train_images or (len(synthetic_cifar().train[1]) if CIFAR_SCHEDULES[mode]["data"] == "synthetic"
                              else 45_000)  # fmt: skip
    devices = [torch.device(device)]
    if devices[0].type == "cpu" and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    rows = []
    for name in CIFAR_NETS:
        s = cifar_schedule(mode, name)
        epochs = s["dense_epochs"] + s["iterations"] * s["epochs"]
        for d in devices:
            sec = measured_epoch(name, images, s["batch_size"], d, steps=3, warmup=1, shape=(3, 32, 32),
                                 **s["model_kwargs"])  # fmt: skip
            rows.append({"cifar": mode, "network": name, "device": device_name(d), "training epochs": epochs,
                         "one epoch, measured (min)": round(sec / 60, 2), "estimate": f"about {duration(epochs * sec)}"})  # fmt: skip
        if len(devices) == 1 and devices[0].type == "cpu":
            rows.append({"cifar": mode, "network": name, "device": "GPU", "training epochs": epochs,
                         "one epoch, measured (min)": None, "estimate": "none: no GPU on this machine to measure"})  # fmt: skip
    return pd.DataFrame(rows).set_index(["cifar", "network"])


def cifar_summary(entries: dict) -> pd.DataFrame:
    """One column per network entry: dense, operating point (with its 95% interval) and final numbers, seconds."""
    out = {}
    for name, e in entries.items():
        op, fin = e["operating_point"], e["final"]
        lo, hi = op["test_acc_interval_pct"]
        out[name] = {"dense test acc": e["dense"]["test_acc"], "operating iteration": op["iteration"],
                     "remaining %": op["params_pct"], "val acc": op["val_acc"], "test acc": op["test_acc"],
                     "test acc, 95% (%)": f"[{lo:.2f}, {hi:.2f}]", "drop (pp)": op["drop_pp"],
                     "structured FLOPs reduction": op["flops_structured_reduction"],
                     "final remaining %": fin["params_pct"], "final test acc": fin["test_acc"],
                     "seconds (this run)": e["seconds"]}  # fmt: skip
    return pd.DataFrame(out)
