"""Dense starting points: the canonical recipes per (model, profile), and the one cached dense trainer.

Every notebook starts from `reference_model(name, profile, seed)` unless its paper's protocol demands another
recipe (Caffe's LeNet solver in notebook 02, the authors' CIFAR schedule in notebook 03), which goes through
the same `train_dense`.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from . import cache
from .data import mnist_splits
from .jobs import EPOCH_SECONDS, Task
from .models import build_model, kaiming_init
from .paths import cache_dir
from .train import evaluate, fit, seed_everything

VERSION = 1  # bump when a code change alters the dense models (part of every dense cache key)
PROFILE_DATA = {  # MNIST sizes per profile: train (of the 55k), validation (of the 5k), test (of the 10k)
    "smoke": {"n_train": 2000, "n_val": 500, "n_test": 1000},
    "quick": {"n_train": None, "n_val": 5000, "n_test": None},
    "paper": {"n_train": None, "n_val": 5000, "n_test": None},
}
DENSE_RECIPE = {
    "opt": "sgd",
    "lr": 0.05,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "batch_size": 64,
    "schedule": "cosine",
}
RECIPES = {
    "cosine": dict(DENSE_RECIPE),  # the suite's canonical recipe
    "caffe_inv": {**DENSE_RECIPE, "lr": 0.01, "schedule": "inv", "gamma": 1e-4},  # Caffe's LeNet solver
}
DENSE_EPOCHS = {
    "lenet300": {"smoke": 1, "quick": 20, "paper": 60},
    "lenet5": {"smoke": 1, "quick": 8, "paper": 30},
}
INITS = ("torch", "kaiming_normal")


def profile_data(profile: str):
    """The MNIST splits of a profile (smoke: small stratified subsets; quick/paper: 55k / 5k / 10k)."""
    if profile not in PROFILE_DATA:
        raise ValueError(f"profile={profile!r} is not one of {sorted(PROFILE_DATA)}")
    return mnist_splits(**PROFILE_DATA[profile])


def _device_type(device) -> str:
    return torch.device(device).type


def train_dense(
    name: str,
    splits,
    *,
    epochs: float,
    recipe: dict,
    data_key: dict,
    seed: int = 0,
    device="cpu",
    model_kwargs: dict | None = None,
    init: str = "torch",
    augment: nn.Module | None = None,
    progress_bar: bool = True,
) -> tuple[nn.Module, dict]:
    """(model, info): a dense network trained with `recipe` (fit keywords) on splits.train, cached.

    `data_key` describes the data in the cache key (profile sizes or a fingerprint); `init` is PyTorch's default
    ('torch', after seeding) or the seeded kaiming-normal of NNrelief's code; `augment` wraps the network during
    training only; The final epoch's weights are kept (no best-validation checkpoint). Without a validation split (splits.val None)
    nothing is monitored and info["val_acc"] is None. While it trains, `fit` checkpoints every epoch to
    `checkpoint_path(cfg)` (not part of the key), so an interrupted run resumes; the file goes once the model is cached.
    """
    if init not in INITS:
        raise ValueError(f"init={init!r} is not one of {INITS}")
    model_kwargs = dict(model_kwargs or {})
    cfg = {
        "model": name,
        **({"model_kwargs": model_kwargs} if model_kwargs else {}),
        **data_key,
        "epochs": epochs,
        **recipe,
        "seed": seed,
        **({"init": init} if init != "torch" else {}),
        **({"augment": repr(augment)} if augment is not None else {}),
        "device": _device_type(device),
    }

    def compute() -> dict:
        seed_everything(seed)
        model = build_model(name, **model_kwargs)
        if init == "kaiming_normal":
            kaiming_init(model, seed)
        model = model.to(device)
        net = model if augment is None else nn.Sequential(augment, model).to(device)
        if augment is not None:  # augmentation draws start from the seed, whatever the init drew
            torch.manual_seed(seed)
        t0 = time.perf_counter()
        hist = fit(
            net,
            splits.train,
            epochs=epochs,
            seed=seed,
            val=splits.val,
            progress_bar=progress_bar,
            desc=f"dense {name}",
            checkpoint=checkpoint,
            **recipe,
        )
        seconds = max(
            time.perf_counter() - t0, float(hist["seconds"].iloc[-1])
        )  # with the epochs before a resume
        info = {
            "test_acc": evaluate(model, *splits.test)["acc"],
            "val_acc": None if splits.val is None else evaluate(model, *splits.val)["acc"],
            "train_seconds": seconds,
            "epoch_seconds": seconds / epochs,
            "history": hist.to_dict("list"),
        }
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "info": info}

    checkpoint = checkpoint_path(cfg)
    payload, hit = cache.cached("dense", cfg, compute, version=VERSION)
    checkpoint.unlink(missing_ok=True)  # the model is cached: its training checkpoint is no longer needed
    model = build_model(name, **model_kwargs)
    model.load_state_dict(payload["state"])
    return model.to(device), {**payload["info"], "cache_hit": hit, "config": cfg}


def checkpoint_path(cfg: dict):
    """Where `train_dense` checkpoints the training of the dense model of `cfg`: `<cache>/checkpoints/<key>.pt`."""
    return cache_dir() / "checkpoints" / f"{cache.config_key('dense', cfg, VERSION)}.pt"


def reference_config(name: str, profile: str, seed: int = 0) -> dict:
    """The canonical dense schedule of (model, profile, seed): data sizes, epochs and recipe."""
    if name not in DENSE_EPOCHS:
        raise ValueError(f"no reference schedule for model {name!r}; choose one of {sorted(DENSE_EPOCHS)}")
    if profile not in PROFILE_DATA:
        raise ValueError(f"profile={profile!r} is not one of {sorted(PROFILE_DATA)}")
    return {
        "model": name,
        "dataset": "mnist",
        "data": PROFILE_DATA[profile],
        "split_seed": 0,
        "epochs": DENSE_EPOCHS[name][profile],
        **DENSE_RECIPE,
        "seed": seed,
    }


def reference_model(name: str, profile: str, seed: int = 0, device: str | torch.device = "cpu"):
    """(model, info): the canonical dense model, trained once per (model, profile, seed, device type), cached."""
    cfg = reference_config(name, profile, seed)
    data_key = {"dataset": "mnist", "data": cfg["data"], "split_seed": cfg["split_seed"]}
    return train_dense(
        name, profile_data(profile), epochs=cfg["epochs"], recipe=DENSE_RECIPE, data_key=data_key,
        seed=seed, device=device,
    )  # fmt: skip


def reference_task_name(name: str, seed: int = 0) -> str:
    """The name of `reference_task`'s task, for the tasks that need the dense model (`Task.needs`)."""
    return f"dense {name} seed {seed}"


def reference_task(name: str, profile: str, seed: int = 0, device="cpu") -> Task:
    """A `pl.jobs` task that trains (or finds in the cache) the dense reference of (name, profile, seed)."""
    kwargs = {"name": name, "profile": profile, "seed": seed, "device": str(device)}
    cost = reference_config(name, profile, seed)["epochs"] * EPOCH_SECONDS.get(name, 1.0)
    return Task(reference_task_name(name, seed), "pruning_lib.dense:fill_reference", kwargs, cost, net=name)


def fill_reference(name: str, profile: str, seed: int, device: str) -> None:
    """The body of `reference_task`: `reference_model`, for its cache entry."""
    reference_model(name, profile, seed, device)
