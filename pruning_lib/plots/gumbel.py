"""Figures of notebook 01 (Gumbel-softmax gates, Zhang, Tao, Zhang 2023): masks, toy run, λ sweep, pathways."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import cm
from matplotlib import colors as mcolors
from matplotlib import ticker as mticker
from matplotlib.collections import LineCollection

from ..masks import prunable_layers
from ..methods.gumbel import (
    TOY_INPUTS,
    TOY_OUTPUTS,
    GumbelGate,
    argmax_masks,
    effective_edges,
    gated_weights,
    layer_orders,
    logistic_noise,
    mask_list,
    pixel_importance,
)
from ..methods.gumbel.graph import path_masks, top_paths
from ..plotting import color, percent_log_axis

N_WEIGHTS = 266_200  # gated weights of LeNet-300-100
PROFILE_WORDS = {"smoke": "tiny subsets, a test run", "quick": "full MNIST, shortened schedule",
                 "paper": "full MNIST, long schedule"}  # fmt: skip
SIGN_RGBA = (mcolors.to_rgba("tab:blue", 0.85), mcolors.to_rgba("tab:red", 0.85))  # negative, positive


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
    by_sign: bool = False,
    hidden_labels: bool = False,
):
    """Draw the kept graph layer by layer (inputs at the bottom), edges coloured by signed weight centred at 0.

    With `by_sign`, edges are red (positive) or blue (negative) and their width grows with |w| (the thinnest
    still visible); `hidden_labels` writes each hidden unit's index beside it. Returns the ScalarMappable for a colour bar (None with `by_sign`, or when there is nothing
    to draw: no edge, or more than `max_edges`; a note is drawn instead).
    """
    ms = effective_edges(masks) if effective_only else mask_list(masks)
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
    if by_sign:
        v = np.asarray(vals)
        widths = 0.8 + 4.2 * np.abs(v) / lim
        lc = LineCollection(
            segs, colors=np.where(v[:, None] > 0, SIGN_RGBA[1], SIGN_RGBA[0]), linewidths=widths
        )
    else:
        lc = LineCollection(segs, cmap=cmap, norm=norm, linewidths=1.2, alpha=0.9)
        lc.set_array(np.asarray(vals))
    ax.add_collection(lc)
    for layer, x in enumerate(xs):
        if x:
            ax.scatter(list(x.values()), [layer] * len(x), s=18 if len(x) < 60 else 6, c="0.2", zorder=3)
    for layer in range(1, len(ms)) if hidden_labels else ():
        for u, x in xs[layer].items():
            ax.text(
                x + 0.004,
                layer + 0.05,
                str(u),
                fontsize=label_fontsize - 2,
                color="0.3",
                ha="left",
                va="bottom",
                bbox={"fc": "white", "ec": "none", "pad": 0.3, "alpha": 0.8},
            )
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
    return None if by_sign else cm.ScalarMappable(norm=norm, cmap=cmap)


def temperature_figure(taus=(0.3, 1.0, 3.0, 10.0)):
    """Sampled 8 x 24 gate masks: soft samples per τ, the hard sample, P(keep) and the slope against τ."""
    torch.manual_seed(0)
    p_keep = torch.linspace(0.02, 0.98, 24).repeat(8, 1)
    delta = torch.logit(p_keep)
    noise = logistic_noise(delta.shape)
    taus = list(taus)
    fig, axes = plt.subplots(2, 4, figsize=(13, 5.2))
    for ax, t in zip(axes[0], taus):
        ax.imshow(torch.sigmoid((delta + noise) / t), cmap="Greys", vmin=0, vmax=1)
        ax.set_title(f"soft sample σ((Δ+L)/τ), τ = {t:g}")
        ax.set_xticks([]), ax.set_yticks([])
    axes[1, 0].imshow((delta + noise >= 0).float(), cmap="Greys", vmin=0, vmax=1)
    axes[1, 0].set_title("hard sample 1[Δ+L ≥ 0]\n(the same for every τ)")
    axes[1, 1].imshow(p_keep, cmap="Greys", vmin=0, vmax=1)
    axes[1, 1].set_title("keep-probability σ(Δ)")
    for ax in axes[1, :2]:
        ax.set_xticks([]), ax.set_yticks([])
    gate = GumbelGate((24,))
    with torch.no_grad():
        gate.theta[0] = delta[0]
        gate.theta[1] = 0.0
    for t in taus:
        freq = torch.stack([gate.sample(t) for _ in range(2000)]).mean(0)
        axes[1, 2].plot(p_keep[0], freq.detach(), "o-", ms=3, label=f"τ = {t:g}")
    axes[1, 2].plot([0, 1], [0, 1], "k:", lw=1)
    axes[1, 2].set_xlabel("σ(Δ)")
    axes[1, 2].set_ylabel("fraction kept (2,000 draws)")
    axes[1, 2].set_title("P(keep) does not depend on τ")
    axes[1, 2].legend(fontsize=8)
    z = torch.linspace(-8, 8, 400)
    for t in taus:
        s = torch.sigmoid(z / t)
        axes[1, 3].plot(z, s * (1 - s) / t, label=f"τ = {t:g}")
    axes[1, 3].set_xlabel("z = Δ + L")
    axes[1, 3].set_ylabel("straight-through slope σ'(z/τ)/τ")
    axes[1, 3].set_title("τ shapes the gradient only")
    axes[1, 3].legend(fontsize=8)
    fig.suptitle(
        "Sampled gate masks and the temperature (black = kept; keep-probability grows from left to right)"
    )
    fig.tight_layout()
    return fig


def toy_training_figure(toy_hist, seed: int, lam: float, tau: float, tau_density: float):
    """The toy run's training loss, test MSE (sampled and argmax mask) and densities against the step."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    axes[0].plot(toy_hist["step"], toy_hist["train_l1"], color=color("gumbel"))
    axes[0].set_yscale("log")
    axes[0].set_ylabel("train L1 loss (log)")
    axes[0].set_title("training loss (sampled masks)")
    test = toy_hist.dropna(subset=["test_mse_sampled"])
    axes[1].plot(
        test["step"], test["test_mse_sampled"], color="0.5", label="sampled mask (as the authors log it)"
    )
    axes[1].plot(test["step"], test["test_mse_argmax"], color=color("gumbel"), label="argmax mask M*")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("test MSE (log)")
    axes[1].set_title("test loss")
    axes[1].legend(fontsize=8)
    axes[2].plot(
        toy_hist["step"], toy_hist["dhat"], color="0.6", lw=0.8, label="D̂ (sampled, as the authors plot it)"
    )
    axes[2].plot(
        toy_hist["step"], toy_hist["density_expected"], color="0.2", ls="--", label="expected density"
    )
    axes[2].plot(
        toy_hist["step"], toy_hist["density_argmax"], color=color("gumbel"), lw=2, label="argmax density"
    )
    axes[2].axhline(0.15, color="k", ls=":", lw=1, label="target ≤ 0.15")
    axes[2].axhline(0.1125, color="tab:green", ls=":", lw=1, label="authors' last D̂ (0.1125)")
    axes[2].set_ylabel("fraction of the 160 connections")
    axes[2].set_title("density")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("step")
    fig.suptitle(f"Toy task, seed {seed}: λ = {lam:g}, τ = {tau:g} / {tau_density:g}")
    fig.tight_layout()
    return fig


def toy_pathways_figure(toy_model, kept: int, split_ok: bool):
    """The toy model's kept graph, inputs at the bottom, edges coloured by signed weight."""
    fig, ax = plt.subplots(figsize=(8, 5))
    sm = plot_pathways(
        ax,
        gated_weights(toy_model),
        argmax_masks(toy_model),
        input_labels=TOY_INPUTS,
        output_labels=TOY_OUTPUTS,
        layer_names=["inputs", "h1", "h2", "outputs"],
        label_fontsize=10,
    )
    if sm is not None:
        fig.colorbar(sm, ax=ax, fraction=0.04, label="signed weight")
    ax.set_title(f"Toy task: the {kept} kept connections (split check: {'passed' if split_ok else 'failed'})")
    return fig


def lambda_training_figure(histories: dict, head_lam: float, profile: str, budget_kept: int):
    """Test accuracy and argmax density per epoch, one colour per λ (`histories`: λ -> history DataFrame)."""
    cmap = plt.get_cmap("viridis")
    lams = sorted(histories)
    col = {lam: cmap(i / max(1, len(lams) - 1)) for i, lam in enumerate(lams)}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.6))
    for lam in lams:
        h = histories[lam]
        lw = 3 if lam == head_lam else 1.3
        label = f"λ = {lam:g}" + (" (headline)" if lam == head_lam else "")
        ax.plot(h["epoch"], 100 * h["acc_argmax"], "-", color=col[lam], lw=lw, label=label)
        ax.plot(h["epoch"], 100 * h["acc_sampled_mean"], "--", color=col[lam], lw=lw * 0.7)
        ax2.plot(h["epoch"], 100 * h["density_argmax"], "-", color=col[lam], lw=lw, label=label)
        ax2.plot(h["epoch"], 100 * h["dhat_last"], ":", color=col[lam], lw=lw * 0.7)
    ax.axhline(90, color="k", ls=":", lw=1)
    ax.set_ylim(max(0, ax.get_ylim()[0]), 100)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("test accuracy: argmax mask (solid), sampled masks (dashed)")
    ax.legend(fontsize=8, loc="lower right")
    ax2.axhline(100 * budget_kept / N_WEIGHTS, color="k", ls="--", lw=1, label="0.15% (399 weights)")
    percent_log_axis(ax2)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("% of the 266,200 weights (log)")
    ax2.set_title("argmax density (solid) and last-step D̂ (dotted)")
    ax2.legend(fontsize=8, loc="upper right")
    fig.suptitle(f"LeNet-300-100 on MNIST with Gumbel gates ({PROFILE_WORDS.get(profile, profile)})")
    fig.tight_layout()
    return fig


def lambda_pareto_figure(runs, baseline, dense_acc: float, budget_kept: int, epochs=None, headline=None):
    """Test accuracy against kept weights: the λ runs, magnitude at the same sizes, seed means with 95% intervals.

    `epochs`: the fine-tuning budget of the magnitude baseline (for its label); `headline`: {label: (mean kept,
    mean accuracy in %, (low, high) in %)}, drawn as error bars (the headline λ and a baseline over seeds).
    """
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharex=True)
    ft = "fine-tuning" if epochs is None else f"fine-tuning ({epochs:g} epoch{'s' * (epochs != 1)})"
    c, mc = color("gumbel"), color("magnitude_global")
    b = baseline.assign(pct=100 * baseline["kept"] / N_WEIGHTS).sort_values("pct")
    for ax, ylim in zip(axes, [(0, 100), (85, 100)]):
        ax.errorbar(
            runs["density_weights_pct"],
            100 * runs["acc_sampled_mean"],
            yerr=100 * runs["acc_sampled_std"],
            fmt="o",
            mfc="white",
            color=c,
            ms=8,
            capsize=3,
            label="Gumbel gates, sampled masks (mean ± std)",
        )
        ax.plot(
            runs["density_weights_pct"],
            100 * runs["acc_argmax"],
            "o-",
            color=c,
            ms=8,
            label="Gumbel gates, argmax mask (no retraining)",
        )
        ax.plot(b["pct"], 100 * b["acc_finetuned"], "s-", color=mc, label=f"global magnitude + {ft}")
        ax.plot(b["pct"], 100 * b["acc_pruned"], "x:", color=mc, label="global magnitude, no fine-tuning")
        for (label, (kept, acc, (low, high))), m in zip((headline or {}).items(), "D^vP"):
            ax.errorbar(100 * kept / N_WEIGHTS, acc, yerr=[[acc - low], [high - acc]], fmt=m, ms=8, capsize=4,
                        color="k" if m == "D" else color("gradual"), mfc="none" if m == "D" else None,
                        label=f"{label}: mean, 95% interval")  # fmt: skip
        ax.axvline(100 * budget_kept / N_WEIGHTS, color="k", ls="--", lw=1, label="0.15% of the weights")
        ax.axhline(90, color="0.3", ls=":", lw=1, label="target ≥ 90% (shortened schedule)")
        ax.axhline(93, color="0.6", ls=":", lw=1, label="target ≥ 93% (long schedule)")
        ax.axhline(100 * dense_acc, color=color("dense"), ls="-.", lw=1, label="dense reference")
        percent_log_axis(ax, "x")
        ax.set_ylim(*ylim)
        ax.set_xlabel("weights kept (% of 266,200, log scale)")
        ax.set_ylabel("test accuracy (%)")
    for _, r in runs.iterrows():
        axes[1].annotate(
            f"λ={r['lambda']:g}",
            (r["density_weights_pct"], 100 * r["acc_argmax"]),
            xytext=(4, 6),
            textcoords="offset points",
            fontsize=8,
        )
    axes[0].set_title("Accuracy against size: one point per λ")
    axes[1].set_title("the same, zoomed to 85-100%")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def pixel_selection_figure(masks: dict, effective: list, X_train, head_lam: float):
    """Kept first-layer edges per pixel, and the selected pixels over the mean training digit."""
    imp = pixel_importance(masks["fc1"])
    selected = masks["fc1"].any(0).view(28, 28)
    eff_selected = effective[0].any(0).view(28, 28)
    mean_digit = X_train.mean(0)[0]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.6))
    vmax = max(1, int(imp.max()))
    im = ax.imshow(np.ma.masked_equal(imp.numpy(), 0), cmap="viridis", vmin=0.5, vmax=vmax + 0.5)
    fig.colorbar(
        im, ax=ax, fraction=0.046, label="kept first-layer edges (white: none)", ticks=range(1, vmax + 1)
    )
    ax.set_title(f"(a) kept edges per pixel, λ = {head_lam:g}")
    ax2.imshow(mean_digit, cmap="Greys")
    overlay = np.zeros((28, 28, 4))
    overlay[selected.numpy()] = mcolors.to_rgba("tab:orange", 0.6)
    overlay[eff_selected.numpy()] = mcolors.to_rgba("tab:red", 0.95)
    ax2.imshow(overlay)
    ax2.set_title(
        f"(b) selected pixels over the mean digit:\n{int(selected.sum())} with a kept edge (orange + red), "
        f"{int(eff_selected.sum())} on a path to an output (red)",
        fontsize=10,
    )
    for a in (ax, ax2):
        a.set_xticks([]), a.set_yticks([])
    return fig


def digit_pathways_figure(model, masks: dict, effective: list, head_lam: float, kept: int, k: int = 3):
    """The k strongest pixel -> h1 -> h2 -> digit paths into every digit (strength = product of |w|)."""
    weights = [m.weight.detach() for m in prunable_layers(model).values()]
    paths = top_paths(weights, effective, k)
    fig, ax = plt.subplots(figsize=(15, 7))
    plot_pathways(
        ax,
        weights,
        path_masks(paths, effective),
        drop_unused=True,
        input_labels=lambda u: f"({u // 28}, {u % 28})",
        output_labels=[str(d) for d in range(10)],
        layer_names=["pixels\n(row, col)", "h1", "h2", "digits"],
        label_fontsize=10,
        by_sign=True,
        hidden_labels=True,
    )
    handles = [
        plt.Line2D(
            [],
            [],
            color=SIGN_RGBA[s],
            lw=w,
            label=f"{'positive' if s else 'negative'} weight" + (", large |w|" if w > 2 else ", small |w|"),
        )
        for s in (1, 0)
        for w in (4.5, 1)
    ]
    ax.legend(
        handles=handles, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), title="edge width ∝ |w|"
    )
    n_edges = sum(int(m.sum()) for m in path_masks(paths, effective))
    reached = len({p["output"] for p in paths})
    ax.set_title(
        f"The {k} strongest paths into each digit (λ = {head_lam:g}): {n_edges} of the {kept} kept edges, "
        f"{reached} of 10 digits reached\n(path strength = product of |w| along the path; hidden units labelled "
        "by index)",
        fontsize=12,
    )
    fig.tight_layout()
    return fig


def gate_settling_figure(toy_gates, histories: dict, n_gated: int, head_lam: float):
    """Did the gates settle? (a) the toy's keep-probabilities σ(θ0 − θ1); (b) MNIST: expected and argmax kept."""
    p = torch.cat([torch.sigmoid(g.delta().detach()).flatten().cpu() for g in toy_gates]).numpy()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.4))
    ax.hist(p, bins=np.linspace(0, 1, 21), color=color("gumbel"), edgecolor="white")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    settled = int(((p < 0.05) | (p > 0.95)).sum())
    ax.set_xlabel("keep-probability σ(θ0 − θ1) after training")
    ax.set_ylabel("gates (log scale)")
    ax.set_title(f"(a) toy task: {settled} of {len(p)} gates below 0.05 or above 0.95", fontsize=11)
    cmap = plt.get_cmap("viridis")
    for i, (s, h) in enumerate(histories.items()):
        c = cmap(i / max(1, len(histories) - 1) * 0.8)
        ax2.plot(h["epoch"], h["kept"], "-", color=c, lw=2, label=f"seed {s}: argmax kept Σ M*")
        ax2.plot(h["epoch"], n_gated * h["density_expected"], "--", color=c, lw=1.5,
                 label=f"seed {s}: expected kept Σ σ(θ0 − θ1)")  # fmt: skip
    ax2.set_yscale("log")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("weights (log scale)")
    ax2.set_title(
        f"(b) MNIST, λ = {head_lam:g}: the two counts meet when every gate is near 0 or 1", fontsize=11
    )
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def class_pathways_figure(P, X_train, y_train, head_lam: float):
    """Per digit, the pixels with a path to its output (colour = number of paths) over the digit's mean image."""
    vmax = max(1, int(P.max()))
    fig, axes = plt.subplots(2, 5, figsize=(13, 5.8))
    for d, ax in enumerate(axes.flat):
        cls = X_train[y_train == d]
        ax.imshow(cls.mean(0)[0] if len(cls) else np.zeros((28, 28)), cmap="Greys", alpha=0.6)
        paths = P[:, d].view(28, 28).double()
        im = ax.imshow(np.ma.masked_equal(paths.numpy(), 0), cmap="plasma", vmin=0.5, vmax=vmax)
        ax.set_title(f"digit {d}: {int((paths > 0).sum())} pixels, {int(paths.sum())} paths", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=axes, fraction=0.02, label="paths from the pixel to the digit")
    fig.suptitle(f"Pixels with a path to each digit (headline run, λ = {head_lam:g})")
    return fig
