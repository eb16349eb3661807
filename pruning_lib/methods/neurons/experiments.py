"""Notebook 04's experiments as a plan: its data sets and nets, and the cached training and pruning runs.

`data_sets(settings, seed, device)` builds every data set of a profile (cosine, the two 2-D shapes, MNIST 10-class
and the one-vs-all digits; built once per process), `nets` names each net with its family, sizes and data, and
`train_net` / `prune_run` are the cached experiments. `net_tasks` and `prune_tasks` list the same work as
`pl.jobs` tasks, so that `run.plan` trains the nets and runs the pruning in parallel workers before the
notebook's loops read every result from the cache. The cache keys are the notebook's (a net's config; a run's
config with the trained weights' fingerprint).
"""

from __future__ import annotations

import json
import time

import torch

from ... import cache, data
from ...jobs import Task
from .fitting import fit_sse, fit_until
from .loop import PruneResult, serial_prune
from .net import SigmoidMLP, one_hot

RECIPES = {  # optimiser settings per family (the MNIST learning rate is a deviation from the paper: see notebook 04)
    "cosine": dict(opt="adam", lr=1e-2, batch_size=100, init_range=1.0),
    "shape": dict(opt="adam", lr=3e-3, batch_size=64, init_range=1.0),
    "mnist": dict(opt="adam", lr=3e-3, batch_size=100, init_range=None),
    "digit": dict(opt="sgd", lr=0.3, batch_size=600, init_range=1.0, check_every=10, target_acc=0.95,
                  balanced=True),
}  # fmt: skip
# cache versions: bump when a code change alters trained nets / pruning results
NET_VERSION, PRUNE_VERSION = 2, 3
DIAMOND = torch.tensor([[0.7, 0.0], [0.0, 0.7], [-0.7, 0.0], [0.0, -0.7]])  # the diamond's outline
SHAPE_SEED = 7  # the random 12-vertex star polygon
DATA_KEYS = ("cos_n", "shape_draw", "shape_test", "mnist_train", "mnist_test")  # what the data depend on
TAYLOR, VARIANTS = ("taylor1", "taylor2"), ("paper", "legacy")
# Rough costs in the units of `pl.jobs.EPOCH_SECONDS` (the reference 2-core CPU), fitted to one cold quick run.
# Training: per step an overhead + per multiply-add of the batch. Pruning, per (removal x example): the curve
# (error and accuracy after each removal) and the scores (brute force: per candidate; Taylor: one pass).
STEP_SECONDS, MAC_SECONDS = 3e-4, 9e-11
CURVE_SECONDS, BF_SECONDS, TAYLOR_SECONDS = 2.2e-7, 9e-9, 4.4e-8
COUNT_RUN_SHARE = 0.3  # a count run stops at the first removal 1 point down: about this share of the removals
_DATA: dict[str, dict] = {}
_FINGERPRINTS: dict[int, tuple] = {}


def data_sets(settings: dict, seed: int, device) -> dict:
    """Every data set of notebook 04 for `settings` (a profile) and `seed`, on `device`; built once per process."""
    memo = json.dumps([{k: settings[k] for k in DATA_KEYS}, seed, str(device)])
    if memo in _DATA:
        return _DATA[memo]
    dev = torch.device(device)
    Xtr, ytr = data.load_mnist(True)
    Xte, yte = data.load_mnist(False)
    if settings["mnist_train"]:
        Xtr, ytr = data.subset(Xtr, ytr, settings["mnist_train"])
        Xte, yte = data.subset(Xte, yte, settings["mnist_test"])
    polygon = data.random_polygon(shape_seed=SHAPE_SEED)
    label_fns = {"diamond": data.in_diamond, "rshape": lambda X: data.in_polygon(X, polygon)}
    raw = {"train": (Xtr.flatten(1) * 255).round().to(dev), "test": (Xte.flatten(1) * 255).round().to(dev)}
    labels = {"train": ytr, "test": yte}
    out = {
        "mnist": {"train": (Xtr.flatten(1).to(dev), one_hot(ytr).to(dev)),
                  "test": (Xte.flatten(1).to(dev), one_hot(yte).to(dev))},
        "cosine": {"train": data.cosine(settings["cos_n"], seed=seed),
                   "test": data.cosine(settings["cos_n"], seed=seed + 1)},
        "shapes": {name: {"train": data.shape_dataset(fn, settings["shape_draw"], seed=seed),
                          "test": data.shape_dataset(fn, settings["shape_test"], seed=seed + 1, balanced=False)}
                   for name, fn in label_fns.items()},
        "digits": {f"digit{d}": {k: (raw[k], torch.stack([(y == d).float(), (y != d).float()], 1).to(dev))
                                 for k, y in labels.items()} for d in (0, 1, 2)},
        "polygon": polygon,
        "outlines": {"diamond": DIAMOND, "rshape": polygon.float()},
    }  # fmt: skip
    _DATA[memo] = out
    return out


def layout(settings: dict) -> dict:
    """Net id -> (family, sizes), from the settings alone."""
    return {
        "cos_10x10": ("cosine", settings["cos_nets"][0]),
        "cos_50x50": ("cosine", settings["cos_nets"][1]),
        "mnist_100": ("mnist", settings["mnist_nets"][0]),
        "mnist_50x50": ("mnist", settings["mnist_nets"][1]),
        "diamond": ("shape", settings["shape_net"]),
        "rshape": ("shape", settings["shape_net"]),
        **{f"digit{d}": ("digit", settings["digit_net"]) for d in (0, 1, 2)},
    }


def nets(settings: dict, sets: dict) -> dict:
    """Net id -> (family, sizes, data) for the data sets `sets` of `data_sets`."""
    pick = {"cosine": lambda n: sets["cosine"], "mnist": lambda n: sets["mnist"],
            "shape": lambda n: sets["shapes"][n], "digit": lambda n: sets["digits"][n]}  # fmt: skip
    return {n: (fam, sizes, pick[fam](n)) for n, (fam, sizes) in layout(settings).items()}


def epochs(settings: dict) -> dict:
    """Training epochs (at most, for the digit nets) per family."""
    return {"cosine": settings["cos_epochs"], "shape": settings["shape_epochs"], "mnist": settings["mnist_epochs"],
            "digit": settings["digit_max_epochs"]}  # fmt: skip


def seeds(settings: dict, seed: int) -> dict:
    """Training seeds per net: `mnist_seeds` of them (`seed`, `seed` + 1, ...) for the MNIST 10-class nets, else one."""
    return {n: [seed + i for i in range(settings["mnist_seeds"] if fam == "mnist" else 1)]
            for n, (fam, _) in layout(settings).items()}  # fmt: skip


def data_fingerprint(split_data: dict) -> list:
    """Hashes of a net's training and test tensors (each computed once per tensor in a process)."""
    parts = []
    for split in ("train", "test"):
        for t in split_data[split]:
            hit = _FINGERPRINTS.get(id(t))
            if hit is None or hit[0] is not t:
                hit = _FINGERPRINTS[id(t)] = (t, cache.fingerprint(t))
            parts.append(hit[1])
    return parts


def net_config(net_id: str, settings: dict, all_nets: dict, s: int) -> dict:
    """The cache key of net `net_id` trained from seed `s`."""
    family, sizes, d = all_nets[net_id]
    return {"net": net_id, "sizes": sizes, "recipe": RECIPES[family], "epochs": epochs(settings)[family],
            "n_train": len(d["train"][0]), "n_test": len(d["test"][0]),
            "profile_data": {k: settings[k] for k in DATA_KEYS}, "data": data_fingerprint(d), "seed": s}  # fmt: skip


def train_net(net_id: str, settings: dict, all_nets: dict, s: int, device) -> tuple:
    """(net in eval mode on `device`, payload, cache hit): net `net_id` trained from seed `s`, cached."""
    family, sizes, d = all_nets[net_id]
    recipe, (X, T), n_epochs = RECIPES[family], d["train"], epochs(settings)[family]

    def compute() -> dict:
        torch.manual_seed(s + sum(map(ord, net_id)))  # a fixed, distinct init per net and seed
        net = SigmoidMLP(sizes, init_range=recipe["init_range"]).to(device)
        t0 = time.perf_counter()
        if recipe["opt"] == "adam":
            hist = fit_sse(net, X, T, epochs=n_epochs, lr=recipe["lr"], batch_size=recipe["batch_size"], seed=s,
                           progress_bar=False)  # fmt: skip
        else:
            hist = fit_until(net, X, T, lr=recipe["lr"], batch_size=recipe["batch_size"],
                             check_every=recipe["check_every"], target_acc=recipe["target_acc"],
                             max_epochs=n_epochs, seed=s, balanced=recipe["balanced"])  # fmt: skip
        return {"state": {k: v.cpu() for k, v in net.state_dict().items()}, "history": hist,
                "seconds": time.perf_counter() - t0}  # fmt: skip

    payload, hit = cache.cached(
        "neurons-net", net_config(net_id, settings, all_nets, s), compute, NET_VERSION
    )
    net = SigmoidMLP(sizes)
    net.load_state_dict(payload["state"])
    return net.to(device).eval(), payload, hit


def prune_key(schedule: str, criterion: str, variant: str | None = "paper") -> str:
    """A run's key: 'rerank/bf', 'rerank/taylor2/paper', 'single/taylor1/legacy', ..."""
    return f"{schedule}/{criterion}" if criterion == "bf" else f"{schedule}/{criterion}/{variant}"


def runs_of(family: str, s: int, seed: int) -> list[tuple]:
    """(schedule, criterion, variant) of every run on one net and seed (Algorithm I only on the MNIST nets)."""
    out = [("rerank", "bf", None)] + [("rerank", c, v) for c in TAYLOR for v in VARIANTS]
    if family == "mnist":
        out += [("single", "bf", None)] + (
            [("single", c, v) for c in TAYLOR for v in VARIANTS] if s == seed else []
        )
    return out


def prune_run(net_id: str, settings: dict, all_nets: dict, net, s: int, seed: int, schedule: str, criterion: str,
              variant: str | None, chunk: int) -> tuple[PruneResult, bool]:  # fmt: skip
    """(run, cache hit): one serial pruning run of the trained `net`; on seeds other than `seed` a count run
    (stopped at the first removal that costs more than 1 point of training accuracy, no test curve)."""
    d = all_nets[net_id][2]
    legacy = criterion != "bf" and variant == "legacy"
    count_only = s != seed
    cfg = {"net": net_config(net_id, settings, all_nets, s), "weights": cache.fingerprint(net),
           "criterion": criterion, "schedule": schedule, "legacy_taylor": legacy, "pruning_set": "train",
           "eval_sets": [] if count_only else ["test"], "until_drop": 0.01 if count_only else None}  # fmt: skip

    def compute() -> dict:
        return serial_prune(net, *d["train"], criterion, schedule, legacy, {} if count_only else {"test": d["test"]},
                            chunk=chunk, until_drop=cfg["until_drop"], progress_bar=False).to_dict()  # fmt: skip

    payload, hit = cache.cached("neurons-prune", cfg, compute, version=PRUNE_VERSION)
    return PruneResult.from_dict(payload), hit


def fill_net(settings: dict, seed: int, net_id: str, s: int, device: str) -> None:
    """A task: train (or find in the cache) net `net_id` from seed `s`."""
    train_net(net_id, settings, nets(settings, data_sets(settings, seed, device)), s, device)


def fill_prune(settings: dict, seed: int, net_id: str, s: int, schedule: str, criterion: str, variant,
               chunk: int, device: str) -> None:  # fmt: skip
    """A task: one pruning run of net `net_id` (seed `s`), cached."""
    all_nets = nets(settings, data_sets(settings, seed, device))
    net, _, _ = train_net(net_id, settings, all_nets, s, device)
    prune_run(net_id, settings, all_nets, net, s, seed, schedule, criterion, variant, chunk)


def n_train(family: str, settings: dict) -> int:
    """Training examples of a family's nets (at most: a balanced shape draw keeps the positives and as many others)."""
    return {"cosine": settings["cos_n"], "shape": settings["shape_draw"]}.get(
        family, settings["mnist_train"] or 60_000
    )


def train_cost(family: str, sizes, settings: dict) -> float:
    """Rough seconds of training one net: steps x (an overhead + batch x weights x a time per multiply-add)."""
    batch = RECIPES[family]["batch_size"]
    steps = epochs(settings)[family] * -(-n_train(family, settings) // batch)
    return steps * (STEP_SECONDS + batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * MAC_SECONDS)


def prune_cost(
    family: str, sizes, settings: dict, schedule: str, criterion: str, count_only: bool = False
) -> float:
    """Rough cost of one pruning run: its curve (K removals) and its scoring (every removal, or once)."""
    k, n = sum(sizes[1:-1]), n_train(family, settings)
    score = BF_SECONDS * k if criterion == "bf" else TAYLOR_SECONDS
    removals = k * (COUNT_RUN_SHARE if count_only else 1.0)
    return 0.1 + removals * n * CURVE_SECONDS + (removals if schedule == "rerank" else 1) * n * score


def net_task_name(net_id: str, s: int) -> str:
    """The plan name of the task that trains net `net_id` from seed `s`."""
    return f"net {net_id} seed {s}"


def net_tasks(settings: dict, seed: int, device) -> list[Task]:
    """One task per (net, seed): training it."""
    fn, all_seeds = "pruning_lib.methods.neurons.experiments:fill_net", seeds(settings, seed)
    return [Task(net_task_name(n, s), fn, {"settings": dict(settings), "seed": seed, "net_id": n, "s": s,
                                           "device": str(device)}, train_cost(fam, sizes, settings))
            for n, (fam, sizes) in layout(settings).items() for s in all_seeds[n]]  # fmt: skip


def prune_tasks(settings: dict, seed: int, device, chunk: int) -> list[Task]:
    """One task per (net, seed, run): the pruning runs, each once its net is trained."""
    fn, all_seeds = "pruning_lib.methods.neurons.experiments:fill_prune", seeds(settings, seed)
    return [Task(f"prune {n} seed {s} {prune_key(sch, c, v)}", fn,
                 {"settings": dict(settings), "seed": seed, "net_id": n, "s": s, "schedule": sch, "criterion": c,
                  "variant": v, "chunk": chunk, "device": str(device)},
                 prune_cost(fam, sizes, settings, sch, c, s != seed), (net_task_name(n, s),))
            for n, (fam, sizes) in layout(settings).items() for s in all_seeds[n]
            for sch, c, v in runs_of(fam, s, seed)]  # fmt: skip
