"""Differentiable thresholds (Manessi et al. 2018): learn one pruning threshold per layer by backpropagation.

Every prunable weight tensor W is replaced in the forward pass by v^β(W, t), a smooth version of Han's hard
threshold x·1[|x| > t]. The threshold t = s·τ (s = std of the dense tensor, frozen; τ >= 0 learnable) and the
sharpness β = c/s (c annealed from c0 to c1) are per layer. Weights (SGD) and thresholds (Adam) are trained
jointly on cross-entropy + λ·R, then the hard mask |W| > t is applied and the survivors are fine-tuned.
The knob along the accuracy/sparsity trade-off is λ. Entry points: `threshold_prune` (in place) and `prune`
(cached, on a copy of a dense model; what notebook 05 calls); `han_baseline` is the cached equal-budget Han run.
"""

from __future__ import annotations

import copy
import math
import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ..cache import cached, fingerprint
from ..data import Batches
from ..masks import apply_masks, export_state, load_state, prunable_layers
from ..metrics import counts, layer_table
from ..models import build_model
from ..dense import DENSE_RECIPE, profile_data, reference_model
from ..train import evaluate, fit, lr_factor, progress, seed_everything

VERSION = 1  # bump when a change to this module alters results (it is part of every cache key)
REGULARIZERS = ("l0", "thr_exp", "thr_log", "band_l1", "none")
BETA_MODES = ("anneal", "fixed")
S2_CUTOFF = 40.0  # when β·t = c·τ >= 40, σ(−β(|x|+t)) <= 4e-18: below float32 resolution, so it is skipped
DEFAULTS = {  # the spec's §2-3 settings; every one is a keyword of `threshold_prune`
    "lam": 2.0,
    "reg": "l0",
    "lr": 0.005,
    "lr_tau": 0.01,
    "tau0": 0.5,
    "c0": 50.0,
    "c1": 1000.0,
    "beta_mode": "anneal",
    "batch_size": 64,
    "momentum": 0.9,
    "weight_decay": 5e-4,
}


# --- the pruning-function family ------------------------------------------------------------------------


def v_reference(x: torch.Tensor, t, beta) -> torch.Tensor:
    """v^β(x, t) = ReLU(x−t) + t·σ(β(x−t)) − ReLU(−x−t) − t·σ(β(−x−t)), as written in the paper."""
    return (
        F.relu(x - t)
        + t * torch.sigmoid(beta * (x - t))
        - F.relu(-x - t)
        - t * torch.sigmoid(beta * (-x - t))
    )


def v_odd(x: torch.Tensor, t, beta, skip_s2: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(v, s1): v = sign(x)·[ReLU(|x|−t) + t·(σ(β(|x|−t)) − σ(−β(|x|+t)))] and the shared s1 = σ(β(|x|−t)).

    `skip_s2` drops σ(−β(|x|+t)), valid when β·t >= S2_CUTOFF (it is then < 4e-18).
    """
    a = x.abs()
    d = a - t
    s1 = torch.sigmoid(beta * d)
    gate = s1 if skip_s2 else s1 - torch.sigmoid(-beta * (a + t))
    return x.detach().sign() * (F.relu(d) + t * gate), s1


def v_grads(
    x: torch.Tensor, t: float, beta: float, form: str = "reference"
) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂v/∂x, ∂v/∂t) element-wise at the points x, from autograd (t broadcast to one copy per point)."""
    x = x.detach().clone().requires_grad_()
    tt = torch.full_like(x, float(t)).requires_grad_()
    v = v_reference(x, tt, beta) if form == "reference" else v_odd(x, tt, beta)[0]
    gx, gt = torch.autograd.grad(v.sum(), (x, tt))
    return gx, gt


def v_hard(x: torch.Tensor, t) -> torch.Tensor:
    """Han's hard threshold h(x, t) = x·1[|x| > t] (strict: a weight exactly at t is pruned)."""
    return x * (x.abs() > t)


def soft_kept(w: torch.Tensor, t, beta) -> torch.Tensor:
    """σ(β(|w| − t)): the soft indicator that a weight survives (the summand of R_l0)."""
    return torch.sigmoid(beta * (w.abs() - t))


def error_pct(acc: float) -> float:
    """Test error in % from an accuracy, rounded to 1e-6 (so 98.2% accuracy is exactly 1.8% error)."""
    return round(100.0 * (1.0 - acc), 6)


def c_schedule(k: int, total: int, c0: float = 50.0, c1: float = 1000.0, mode: str = "anneal") -> float:
    """Sharpness constant at joint step k of `total`: geometric c0·(c1/c0)^(k/K) ('anneal') or c1 ('fixed')."""
    if mode == "fixed":
        return float(c1)
    if mode != "anneal":
        raise ValueError(f"beta_mode={mode!r} is not one of {BETA_MODES}")
    return float(c0 * (c1 / c0) ** (min(k, total) / max(total, 1)))


# --- regularizers (spec §2.3); ws: raw weights, taus: 0-d tensors, scales: frozen stds --------------------


def regularizer(reg: str, ws, taus, scales, c: float) -> torch.Tensor:
    """R of the named regularizer over all layers (`l0`, `thr_exp`, `thr_log`, `band_l1`, `none`)."""
    sizes = [w.numel() for w in ws]
    n = sum(sizes)
    if reg == "l0":
        return sum(soft_kept(w, s * tau, c / s).sum() for w, tau, s in zip(ws, taus, scales)) / n
    if reg == "thr_exp":
        return sum(ni / n * torch.exp(-tau) for ni, tau in zip(sizes, taus))
    if reg == "thr_log":
        return -sum(ni / n * torch.log(tau + 1e-3) for ni, tau in zip(sizes, taus))
    if reg == "band_l1":
        return (
            sum(
                (w.abs() / s * (1 - soft_kept(w, (s * tau).detach(), c / s))).sum()
                for w, tau, s in zip(ws, taus, scales)
            )
            / n
        )
    if reg == "none":
        return torch.zeros((), dtype=ws[0].dtype, device=ws[0].device)
    raise ValueError(f"reg={reg!r} is not one of {REGULARIZERS}")


# --- the parametrization: W -> v^β(W, s·τ) ---------------------------------------------------------------


class SoftThreshold(nn.Module):
    """Parametrization of one weight tensor: τ learnable (t = s·τ), s frozen, c set by the training loop."""

    def __init__(self, scale: float, tau0: float = 0.5, c: float = 50.0, dtype=torch.float32):
        super().__init__()
        self.register_buffer("scale", torch.tensor(float(scale), dtype=dtype))
        self.tau = nn.Parameter(torch.tensor(float(tau0), dtype=dtype))
        self.c = float(c)
        self.kept = None  # σ(β(|W|−t)) of the last forward pass, shared with R_l0

    def threshold(self) -> torch.Tensor:
        """t = s·τ."""
        return self.scale * self.tau

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        v, self.kept = v_odd(w, self.threshold(), self.c / self.scale, self.c * self.tau.item() >= S2_CUTOFF)
        return v


def attach(model: nn.Module, tau0: float = 0.5, c: float = 50.0) -> dict[str, SoftThreshold]:
    """Parametrize every Linear/Conv2d weight of `model` by a SoftThreshold (s = its current std)."""
    out = {}
    for name, m in prunable_layers(model).items():
        if parametrize.is_parametrized(m, "weight"):
            raise ValueError(f"layer {name} is already parametrized")
        p = SoftThreshold(m.weight.detach().std().item(), tau0, c, m.weight.dtype).to(m.weight.device)
        parametrize.register_parametrization(m, "weight", p)
        out[name] = p
    return out


def raw_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable (un-thresholded) weight of each prunable layer."""
    return {
        name: (m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight)
        for name, m in prunable_layers(model).items()
    }


def set_c(params: dict[str, SoftThreshold], c: float) -> None:
    """Set the sharpness constant of every layer (β_ℓ = c/s_ℓ)."""
    for p in params.values():
        p.c = float(c)


def hard_masks(model: nn.Module, params: dict[str, SoftThreshold]) -> dict[str, torch.Tensor]:
    """Keep-masks |W_ℓ| > t_ℓ on the raw weights (strict)."""
    ws = raw_weights(model)
    return {name: ws[name].detach().abs() > p.threshold().detach() for name, p in params.items()}


def detach(model: nn.Module) -> None:
    """Remove the parametrizations; each layer's weight is its raw W again."""
    for m in prunable_layers(model).values():
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)


def _train_regularizer(reg, model, params, c):
    """R for one training step; `l0` reuses σ(β(|W|−t)) already computed in the forward pass."""
    if reg == "l0":
        n = sum(p.kept.numel() for p in params.values())
        return sum(p.kept.sum() for p in params.values()) / n
    ws = raw_weights(model)
    return regularizer(
        reg, [ws[k] for k in params], [p.tau for p in params.values()], [p.scale for p in params.values()], c
    )


def _log_row(model, params, step, steps_per_epoch, c, **extra) -> dict:
    """Thresholds, τ and hard % remaining per layer and in total at one joint step."""
    row = {"phase": "joint", "step": step, "epoch": step / steps_per_epoch, "c": c, **extra}
    ws, kept, total = raw_weights(model), 0, 0
    with torch.no_grad():
        for name, p in params.items():
            nz = int((ws[name].abs() > p.threshold()).sum())
            row[f"tau_{name}"], row[f"t_{name}"] = p.tau.item(), p.threshold().item()
            row[f"{name}_pct"] = 100.0 * nz / ws[name].numel()
            kept, total = kept + nz, total + ws[name].numel()
    row["weights_pct"] = 100.0 * kept / total
    return row


# --- the pipeline (spec §2.4) ------------------------------------------------------------------------------


def threshold_prune(
    model: nn.Module,
    train,
    *,
    joint_epochs: float = 6,
    finetune_epochs: float = 2,
    lam: float = 2.0,
    reg: str = "l0",
    lr: float = 0.005,
    lr_tau: float = 0.01,
    tau0: float = 0.5,
    c0: float = 50.0,
    c1: float = 1000.0,
    beta_mode: str = "anneal",
    batch_size: int = 64,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    seed: int = 0,
    test=None,
    val=None,
    log_every: int = 50,
    progress_bar: bool = True,
):
    """Joint W/τ training, hard mask, fine-tune, in place; returns (model with prune masks, history DataFrame).

    history.attrs["summary"] holds the three test errors (soft, hard before fine-tuning, final; with `test`),
    the final τ and t per layer, counts and the wall time per phase.
    """
    if reg not in REGULARIZERS:
        raise ValueError(f"reg={reg!r} is not one of {REGULARIZERS}")
    if beta_mode not in BETA_MODES:
        raise ValueError(f"beta_mode={beta_mode!r} is not one of {BETA_MODES}")
    if joint_epochs <= 0 or finetune_epochs < 0 or lam < 0 or tau0 < 0:
        raise ValueError("need joint_epochs > 0, finetune_epochs >= 0, lam >= 0 and tau0 >= 0")
    X, y = train
    device = next(model.parameters()).device
    params = attach(model, tau0, c_schedule(0, 1, c0, c1, beta_mode))
    taus = [p.tau for p in params.values()]
    w_params = [p for n, p in model.named_parameters() if not n.endswith(".tau")]
    opt_w = torch.optim.SGD(w_params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    opt_tau = torch.optim.Adam(taus, lr=lr_tau)
    batches = Batches(X, y, batch_size, shuffle=True, seed=seed)
    per_epoch = len(batches)
    total = max(1, round(joint_epochs * per_epoch))
    lam_eff = 0.0 if reg == "none" else float(lam)
    history = [_log_row(model, params, 0, per_epoch, c_schedule(0, total, c0, c1, beta_mode))]
    t0, step, ce_sum, r_sum, seen = time.perf_counter(), 0, 0.0, 0.0, 0
    model.train()
    bar = progress(total=total, desc=f"joint λ={lam:g} {reg}", **({} if progress_bar else {"disable": True}))
    while step < total:
        for xb, yb in batches:
            c = c_schedule(step, total, c0, c1, beta_mode)
            set_c(params, c)
            opt_w.param_groups[0]["lr"] = lr * lr_factor("cosine", step, total, per_epoch)
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            ce = F.cross_entropy(model(xb), yb)
            r = _train_regularizer(reg, model, params, c)
            loss = ce + lam_eff * r if lam_eff else ce
            opt_w.zero_grad(set_to_none=True)
            opt_tau.zero_grad(set_to_none=True)
            loss.backward()
            opt_w.step()
            opt_tau.step()
            with torch.no_grad():
                for tau in taus:
                    tau.clamp_(min=0.0)
            for p in params.values():
                p.kept = None
            step += 1
            ce_sum, r_sum, seen = ce_sum + ce.item(), r_sum + float(r.detach()), seen + 1
            bar.update(1)
            if step % log_every == 0 or step == total:
                extra = {"ce": ce_sum / seen, "reg": r_sum / seen, "seconds": time.perf_counter() - t0}
                history.append(_log_row(model, params, step, per_epoch, c, **extra))
                ce_sum, r_sum, seen = 0.0, 0.0, 0
                bar.set_postfix(pct=f"{history[-1]['weights_pct']:.1f}")
            if step >= total:
                break
    bar.close()
    summary = {"joint_s": time.perf_counter() - t0, "c_end": c_schedule(total, total, c0, c1, beta_mode)}
    set_c(params, summary["c_end"])
    if test is not None:
        summary["error_soft_pct"] = error_pct(evaluate(model, *test)["acc"])
    # hard mask on the raw W (not on v(W)), then fine-tune with the mask fixed
    t1 = time.perf_counter()
    names = list(params)
    summary["tau"] = {n: params[n].tau.item() for n in names}
    summary["t"] = {n: params[n].threshold().item() for n in names}
    summary["scale"] = {n: params[n].scale.item() for n in names}
    masks = hard_masks(model, params)
    detach(model)
    with torch.no_grad():
        for name, m in prunable_layers(model).items():
            m.weight.mul_(masks[name])
    apply_masks(model, masks)
    if test is not None:
        summary["error_hard_pct"] = error_pct(evaluate(model, *test)["acc"])
    summary["hard_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    ft = pd.DataFrame()
    if finetune_epochs > 0:
        ft = fit(
            model,
            train,
            epochs=finetune_epochs,
            batch_size=batch_size,
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
            schedule="cosine",
            seed=seed + 1,
            progress_bar=progress_bar,
            desc="fine-tune",
        ).assign(phase="finetune")
    summary["finetune_s"] = time.perf_counter() - t2
    if test is not None:
        summary["error_final_pct"] = error_pct(evaluate(model, *test)["acc"])
    if val is not None:
        summary["val_error_final_pct"] = error_pct(evaluate(model, *val)["acc"])
    summary["joint_weights_pct"] = history[-1]["weights_pct"]
    summary["counts"] = counts(model)
    summary["per_layer"] = layer_table(model, tuple(X.shape[1:])).to_dict("records")
    hist = pd.concat([pd.DataFrame(history), ft], ignore_index=True)
    hist.attrs["summary"] = summary
    return model, hist


# --- cached entry points (notebooks 02 and 05) -----------------------------------------------------------


def _budget(budget) -> tuple[float, float]:
    """(joint, fine-tune) epochs from a pair, or from a total split 3:1."""
    if isinstance(budget, tuple | list):
        joint, ft = budget
    else:
        joint, ft = 0.75 * budget, 0.25 * budget
    if joint <= 0 or ft < 0:
        raise ValueError(f"budget={budget!r}: need joint epochs > 0 and fine-tune epochs >= 0")
    return float(joint), float(ft)


def _cached_run(kind, cfg, dense, compute, use_cache):
    """Run `compute()` -> (model, history) through the cache; returns (model, history with attrs summary)."""

    def payload():
        model, hist = compute()
        return {"model": export_state(model), "history": hist, "summary": hist.attrs["summary"]}

    if use_cache:
        data, hit = cached(kind, cfg, payload)
    else:
        data, hit = payload(), False
    model = load_state(copy.deepcopy(dense), data["model"])
    hist = pd.DataFrame(data["history"])
    hist.attrs["summary"] = {**data["summary"], "cache_hit": hit, "config": cfg}
    return model, hist


def prune(dense: nn.Module, splits, lam: float = 2.0, budget=(6, 2), *, seed: int = 0, cache=True, **options):
    """Differentiable-threshold pruning of a copy of `dense` (cached): returns (pruned model, history).

    `splits` has .train/.val/.test; `budget` is (joint, fine-tune) epochs or a total (split 3:1);
    `options` are `threshold_prune` keywords (reg, beta_mode, lr, lr_tau, tau0, c0, c1, ...).
    """
    joint, ft = _budget(budget)
    opts = {**DEFAULTS, **options, "lam": float(lam)}
    unknown = set(opts) - set(DEFAULTS) - {"progress_bar", "log_every"}
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}; choose from {sorted(DEFAULTS)}")
    progress_bar = opts.pop("progress_bar", True)
    cfg = {
        "version": VERSION,
        "method": "thresholds",
        "dense": fingerprint(dense),
        "data": fingerprint(splits.train, splits.val, splits.test),
        "joint_epochs": joint,
        "finetune_epochs": ft,
        "seed": seed,
        **opts,
    }

    def compute():
        model = copy.deepcopy(dense)
        return threshold_prune(
            model,
            splits.train,
            joint_epochs=joint,
            finetune_epochs=ft,
            seed=seed,
            test=splits.test,
            val=splits.val,
            progress_bar=progress_bar,
            **opts,
        )

    return _cached_run("thresholds", cfg, dense, compute, cache)


def han_baseline(
    dense: nn.Module,
    splits,
    r_final: float = 0.08,
    budget=(4, 2),
    *,
    lr: float = 0.005,
    mode: str = "quality",
    network: str | None = None,
    seed: int = 0,
    cache=True,
):
    """Han et al.'s iterative prune-retrain (pl.magnitude.han_prune) on a copy of `dense`, cached.

    `budget` = (iterations, retrain epochs per iteration); returns (model, history) like `prune`.
    """
    from .magnitude import han_prune

    iterations, retrain = budget
    cfg = {
        "version": VERSION,
        "method": "han",
        "dense": fingerprint(dense),
        "data": fingerprint(splits.train, splits.val, splits.test),
        "r_final": r_final,
        "iterations": int(iterations),
        "retrain_epochs": float(retrain),
        "lr": lr,
        "mode": mode,
        "network": network,
        "seed": seed,
    }

    def compute():
        model = copy.deepcopy(dense)
        t0 = time.perf_counter()
        model, hist = han_prune(
            model,
            splits.train,
            r_final=r_final,
            iterations=int(iterations),
            retrain_epochs=retrain,
            lr=lr,
            test=splits.test,
            mode=mode,
            network=network,
            seed=seed,
            fit_kwargs={"progress_bar": False},
        )
        summary = {"seconds": time.perf_counter() - t0, "q": float(hist["q"].iloc[-1])}
        summary["error_final_pct"] = error_pct(evaluate(model, *splits.test)["acc"])
        if splits.val is not None:
            summary["val_error_final_pct"] = error_pct(evaluate(model, *splits.val)["acc"])
        summary["counts"] = counts(model)
        summary["per_layer"] = layer_table(model, tuple(splits.train[0].shape[1:])).to_dict("records")
        hist.attrs["summary"] = summary
        return model, hist

    return _cached_run("thresholds-han", cfg, dense, compute, cache)


def run_row(hist: pd.DataFrame) -> dict:
    """A run's summary as one flat row: errors, counts (weights and all parameters), τ, t and % per layer."""
    s = hist.attrs["summary"]
    keys = ("error_soft_pct", "error_hard_pct", "error_final_pct", "val_error_final_pct", "joint_weights_pct")
    row = {k: s[k] for k in (*keys, "q", "joint_s", "hard_s", "finetune_s", "seconds") if k in s}
    c = s["counts"]
    for k in ("weights_nonzero", "weights_pct", "params_nonzero", "params_pct"):
        row[k] = c[k]
    row["compression_weights"], row["compression_params"] = c["compression_weights"], c["compression_params"]
    row.update({f"{r['layer']}_pct": r["remaining_pct"] for r in s["per_layer"] if r["layer"] != "total"})
    row.update({f"tau_{k}": v for k, v in s.get("tau", {}).items()})
    row.update({f"t_{k}": v for k, v in s.get("t", {}).items()})
    row["cache_hit"] = s.get("cache_hit")
    return row


# --- dense starting points ----------------------------------------------------------------------------------

RECIPES = {
    "cosine": dict(DENSE_RECIPE),  # the suite's canonical recipe (pl.train)
    "caffe_inv": {**DENSE_RECIPE, "lr": 0.01, "schedule": "inv", "gamma": 1e-4},  # Caffe's LeNet solver
}
CAFFE_ITERATIONS = 10_000


def train_dense(
    name, train, test, epochs, *, seed=0, recipe="cosine", num_classes=10, val=None, device="cpu"
):
    """(model, info): a dense network trained with a named recipe on (train), cached by data and schedule."""
    cfg = {
        "version": VERSION,
        "model": name,
        "num_classes": num_classes,
        "data": fingerprint(train, val, test),
        "epochs": epochs,
        "recipe": RECIPES[recipe],
        "seed": seed,
    }

    def compute():
        seed_everything(seed)
        model = build_model(name, num_classes=num_classes).to(device)
        t0 = time.perf_counter()
        fit(model, train, epochs=epochs, seed=seed, desc=f"dense {name}", **RECIPES[recipe])
        seconds = time.perf_counter() - t0
        info = {
            "test_acc": evaluate(model, *test)["acc"],
            "train_seconds": seconds,
            "epoch_seconds": seconds / epochs,
        }
        if val is not None:
            info["val_acc"] = evaluate(model, *val)["acc"]
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "info": info}

    payload, hit = cached("thresholds-dense", cfg, compute)
    model = build_model(name, num_classes=num_classes)
    model.load_state_dict(payload["state"])
    return model.to(device), {**payload["info"], "cache_hit": hit, "config": cfg}


def dense_model(name: str, profile: str, seed: int = 0, recipe: str = "cosine", device="cpu"):
    """The dense start: the suite's shared reference ('cosine') or Caffe's LeNet solver ('caffe_inv', 10k steps)."""
    if recipe == "cosine":
        return reference_model(name, profile, seed, device)
    splits = profile_data(profile)
    steps = len(Batches(*splits.train, RECIPES[recipe]["batch_size"]))
    epochs = 1 if profile == "smoke" else CAFFE_ITERATIONS / steps
    return train_dense(
        name, splits.train, splits.test, epochs, seed=seed, recipe=recipe, val=splits.val, device=device
    )


# --- transfer-learning proxy: frozen features + an L-BFGS logistic-regression probe ----------------------


@torch.no_grad()
def fc1_features(model: nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """LeNet-5 features up to the fc1 ReLU (500-d), in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    out = [
        F.relu(model.fc1(model.features(X[i : i + batch_size].to(device)))).cpu()
        for i in range(0, len(X), batch_size)
    ]
    return torch.cat(out)


def linear_probe(
    f_train, y_train, f_test, y_test, *, l2: float = 1e-4, max_iter: int = 200, classes: int | None = None
) -> dict:
    """Multinomial logistic regression on standardized features (L-BFGS, float64); test accuracy and loss.

    Loss = mean cross-entropy + l2·||W||² (bias unpenalized); the standardization uses the training features.
    """
    mean, std = f_train.double().mean(0), f_train.double().std(0).clamp_min(1e-6)
    a, b = (f_train.double() - mean) / std, (f_test.double() - mean) / std
    labels = torch.unique(y_train)
    k = classes or len(labels)
    remap = torch.full((int(labels.max()) + 1,), -1, dtype=torch.long)
    remap[labels] = torch.arange(len(labels))
    ya, yb = remap[y_train], remap[y_test]
    W = torch.zeros(a.shape[1], k, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [W, bias], lr=1, max_iter=max_iter, tolerance_grad=1e-9, tolerance_change=1e-12,
        history_size=20, line_search_fn="strong_wolfe",
    )  # fmt: skip

    def objective():
        return F.cross_entropy(a @ W + bias, ya) + l2 * (W * W).sum()

    def closure():
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    grad_norm = torch.cat([g.flatten() for g in torch.autograd.grad(objective(), [W, bias])]).norm().item()
    with torch.no_grad():
        logits = b @ W + bias
        acc = (logits.argmax(1) == yb).double().mean().item()
        train_acc = ((a @ W + bias).argmax(1) == ya).double().mean().item()
    return {"acc": acc, "train_acc": train_acc, "grad_norm": grad_norm, "iterations": opt.state[W]["n_iter"]}


def transfer_probe(
    model: nn.Module, train, test, *, l2: float = 1e-4, max_iter: int = 200, cache=True
) -> dict:
    """Linear probe on `model`'s frozen fc1 features: fit on `train`, score on `test` (cached by inputs)."""
    cfg = {
        "version": VERSION,
        "method": "probe",
        "model": fingerprint(model),
        "data": fingerprint(train, test),
        "l2": l2,
        "max_iter": max_iter,
    }

    def compute():
        fa, fb = fc1_features(model, train[0]), fc1_features(model, test[0])
        return linear_probe(fa, train[1], fb, test[1], l2=l2, max_iter=max_iter)

    if not cache:
        return {**compute(), "cache_hit": False}
    out, hit = cached("thresholds-probe", cfg, compute)
    return {**{k: v for k, v in out.items() if k != "config"}, "cache_hit": hit}


def digits(X: torch.Tensor, y: torch.Tensor, keep, n: int | None = None, relabel: bool = False):
    """The images of the digits in `keep` (first n, stratified), labels optionally renumbered 0..len(keep)-1."""
    from ..data import subset

    sel = torch.isin(y, torch.tensor(list(keep)))
    Xs, ys = subset(X[sel], y[sel], n)
    if relabel:
        lut = torch.full((10,), -1, dtype=torch.long)
        lut[torch.tensor(list(keep))] = torch.arange(len(keep))
        ys = lut[ys]
    return Xs, ys


def jsonable(obj):
    """Recursively replace NaN/inf floats by None and numpy/torch scalars by Python numbers (for results.json)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
