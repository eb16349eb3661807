"""Figures of notebook 04 (whole-neuron removal, Wolfe et al. 2017): curves per criterion, gains, toys, layers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

from ..methods.neurons import CRITERIA, n_within
from ..plotting import color, label


def net_name(sizes) -> str:
    """'784-100-10' for the layer sizes of a net."""
    return "-".join(map(str, sizes))


def criterion_curves(ax, rr, schedule, what, pct=False, test=False, log=False):
    """One curve per criterion of runs `rr[schedule, criterion]` (training solid, test dashed when `test`)."""
    for c in CRITERIA:
        r = rr[schedule, c]
        y = np.asarray(r.sse if what == "sse" else r.acc, dtype=float)
        x = np.arange(len(y)) * (100.0 / (len(y) - 1) if pct else 1.0)
        col, lab = color(c), label(c)
        ax.plot(x, 100 * y if what == "acc" else y, color=col, lw=1.8, label=lab)
        if test:
            yt = np.asarray(r.eval_curves["test"][what], dtype=float)
            ax.plot(x, 100 * yt if what == "acc" else yt, color=col, lw=1.2, ls="--")
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel("% of hidden neurons removed" if pct else "neurons removed")
    ax.set_ylabel("Sum of Squared Errors" if what == "sse" else "Classification Accuracy (%)")


def _gain_panel(ax, name, j, alphas, curve, E_full, true_dE, dE1, dE2):
    """True E(alpha) of one neuron with the Taylor tangent and parabola and their values at alpha = 0."""
    D1, D2 = -dE1[j].item(), 2 * (dE2[j] - dE1[j]).item()
    a = alphas.numpy()
    ax.plot(a, curve.numpy(), color="k", lw=2, label="true E(α)")
    ax.plot(a, E_full + (a - 1) * D1, color=color("taylor1"), ls="--", label="tangent (1st order)")
    ax.plot(
        a,
        E_full + (a - 1) * D1 + 0.5 * (a - 1) ** 2 * D2,
        color=color("taylor2"),
        ls="--",
        label="parabola (2nd order)",
    )
    ax.plot([0], [E_full + true_dE[j].item()], "o", color="k", ms=8, label=f"E(0): ΔE = {true_dE[j]:+.2f}")
    ax.plot(
        [0], [E_full + dE1[j].item()], "s", color=color("taylor1"), ms=7, label=f"Ê¹(0): ΔE¹ = {dE1[j]:+.2f}"
    )
    ax.plot(
        [0], [E_full + dE2[j].item()], "D", color=color("taylor2"), ms=7, label=f"Ê²(0): ΔE² = {dE2[j]:+.2f}"
    )
    ax.axvline(1, color="0.6", lw=1, ls=":")
    lo = min(curve.min().item(), E_full + min(dE1[j].item(), dE2[j].item(), 0))
    hi = max(curve.max().item(), E_full + max(dE1[j].item(), dE2[j].item(), 0))
    ax.set_ylim(lo - 0.1 * (hi - lo + 1e-9), hi + 0.1 * (hi - lo + 1e-9))
    ax.set_xlabel("gain α on the neuron's output (1 = trained, 0 = removed)")
    ax.set_ylabel("Sum of Squared Errors (training set)")
    ax.set_title(f"neuron {j}: {name}")
    ax.legend(fontsize=8, loc="best")


def taylor_intuition_figure(picks, alphas, curves, E_full, true_dE, dE1, dE2):
    """Two neurons' E(alpha) against the 1st-order tangent and the 2nd-order parabola read at alpha = 0."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    for ax, (name, j) in zip(axes, picks.items()):
        _gain_panel(ax, name, j, alphas, curves[name], E_full, true_dE, dE1, dE2)
    fig.suptitle(
        "784-100-10 on MNIST: the Taylor estimates of a removal read the tangent / parabola at α = 0"
    )
    return fig


def cosine_figure(runs, net_info):
    """SSE (log) against neurons removed for the two cosine nets, Algorithm II (paper Fig. 2)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    for ax, net_id in zip(axes, ["cos_10x10", "cos_50x50"]):
        criterion_curves(ax, runs[net_id], "rerank", "sse", log=True)
        ax.axhline(net_info[net_id]["sse0_train"], color="0.5", lw=1, ls=":")
        ax.set_title(f"{net_name(net_info[net_id]['sizes'])} on cos x (Alg. II, training set)")
    axes[0].legend()
    return fig


def zoom_end_pct(rr, schedule, drop: float = 0.02, margin: float = 1.25) -> float:
    """% removed up to which a zoom shows every criterion until it loses `drop` training accuracy (step 5%)."""
    ends = []
    for c in CRITERIA:
        acc = rr[schedule, c].acc
        ends.append(100.0 * (n_within(acc, drop) + 1) / (len(acc) - 1))
    return float(min(100.0, max(10.0, 5 * np.ceil(margin * max(ends) / 5))))


def zoom_limits(ax, rr, schedule, what, end_pct, start, low_pts: float = 3.0):
    """y-limits of a zoom panel: accuracy from `low_pts` below the start; SSE up to brute force's value at the end."""
    if what == "acc":
        tops = [
            100 * max(max(rr[schedule, c].acc), max(rr[schedule, c].eval_curves["test"]["acc"]))
            for c in CRITERIA
        ]
        lows = [100 * rr[schedule, c].eval_curves["test"]["acc"][0] for c in CRITERIA] + [100 * start]
        ax.set_ylim(min(lows) - low_pts, max(tops) + 0.3)
    else:
        bf = np.asarray(rr[schedule, "bf"].sse, dtype=float)
        last = int(round(end_pct / 100 * (len(bf) - 1)))
        ax.set_ylim(0.97 * bf[: last + 1].min(), max(1.15 * bf[last], 1.3 * bf[0]))
    ax.set_xlim(0, end_pct)


def mnist_figure(runs, net_info, schedule):
    """SSE and accuracy against % removed for the two MNIST 10-class nets, each with a zoom on the start (Figs. 3-4)."""
    fig, axes = plt.subplots(
        2, 4, figsize=(20, 8.5), layout="constrained", gridspec_kw={"width_ratios": [1, 0.85, 1, 0.85]}
    )
    for row, net_id in enumerate(["mnist_100", "mnist_50x50"]):
        rr, name, start = runs[net_id], net_name(net_info[net_id]["sizes"]), net_info[net_id]["train_acc"]
        end = zoom_end_pct(rr, schedule)
        for col, what in ((0, "sse"), (2, "acc")):
            for ax, zoom in ((axes[row, col], False), (axes[row, col + 1], True)):
                criterion_curves(
                    ax, rr, schedule, what, pct=True, test=what == "acc", log=what == "sse" and not zoom
                )
                if what == "acc":
                    ax.axhline(100 * (start - 0.01), color="0.5", lw=1, ls=":", label="1 point below start")
                if zoom:
                    zoom_limits(ax, rr, schedule, what, end, start)
                    ax.grid(alpha=0.3)
                else:
                    ax.axvspan(0, end, color="0.92", zorder=0)
            kind = "SSE (training set)" if what == "sse" else "accuracy (training solid, test dashed)"
            axes[row, col].set_title(f"{name}: {kind}", fontsize=10)
            axes[row, col + 1].set_title(f"{name}: zoom on the first {end:.0f}% removed", fontsize=10)
        axes[row, 1].set_ylabel("Sum of Squared Errors (linear scale)")
    handles, labels = axes[0, 3].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=10)
    title = (
        "Algorithm I: single overall ranking"
        if schedule == "single"
        else "Algorithm II: re-ranking after every removal"
    )
    fig.suptitle(f"MNIST, {title} (grey band: the range shown zoomed to its right)")
    return fig


def gain_curves_figure(gains, alphas, net_info, n_gain):
    """SSE (log) against the gain of the neuron chosen at steps 0, K/10, ... per net and criterion (Figs. 5-7)."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True, layout="constrained")
    cmap = plt.get_cmap("viridis")
    for row, net_id in enumerate(["mnist_100", "mnist_50x50"]):
        K = net_info[net_id]["K"]
        for col, c in enumerate(CRITERIA):
            ax = axes[row, col]
            for st, curve in gains[net_id, c].items():
                ax.plot(alphas.numpy(), curve, color=cmap(st / K), lw=1.4)
            ax.axvline(1, color="0.5", lw=1, ls=":")
            ax.set_yscale("log")
            ax.set_title(f"{net_name(net_info[net_id]['sizes'])}: {label(c)}", fontsize=10, color=color(c))
            if row == 1:
                ax.set_xlabel("gain α on the neuron chosen at that step")
            if col == 0:
                ax.set_ylabel(f"SSE on {n_gain:,} training images")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 100))
    fig.colorbar(sm, ax=axes, shrink=0.8, label="removal step at which the neuron was chosen (% of K)")
    fig.suptitle("Gain curves of the neurons removed at steps 0, K/10, …, 9K/10 (Alg. II)")
    return fig


def layer_preference_figure(rr, sizes):
    """Per criterion: the hidden layer of each removal (strip) and the running share from hidden layer 2."""
    K = sum(sizes[1:-1])
    fig = plt.figure(figsize=(12, 9), layout="constrained")
    outer = fig.add_gridspec(3, 1)
    layer_cmap = ListedColormap(["#9ecae1", "#08519c"])
    for i, c in enumerate(CRITERIA):
        lay = np.asarray(rr["rerank", c].layers)
        inner = outer[i].subgridspec(2, 1, height_ratios=[0.3, 1.5])
        ax0 = fig.add_subplot(inner[0])
        ax0.imshow(lay[None, :], aspect="auto", cmap=layer_cmap, vmin=0, vmax=1, extent=(0.5, K + 0.5, 0, 1))
        ax0.set_yticks([])
        ax0.set_xticks([])
        ax0.set_title(
            f"{label(c)}: layer of each removal (light = hidden 1, dark = hidden 2)",
            fontsize=10,
            color=color(c),
        )
        ax1 = fig.add_subplot(inner[1])
        ax1.plot(np.arange(1, K + 1), np.cumsum(lay == 1) / np.arange(1, K + 1), color=color(c), lw=2)
        ax1.axhline(0.5, color="0.5", ls="--", lw=1)
        ax1.set_xlim(0.5, K + 0.5)
        ax1.set_ylim(0, 1.02)
        ax1.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax1.set_ylabel("cumulative fraction\nfrom hidden layer 2", fontsize=9)
        ax1.set_xlabel("removal step" if i == 2 else "")
    fig.suptitle(f"{net_name(sizes)}, Algorithm II: which hidden layer loses neurons first")
    return fig


def toys_figure(shapes, outlines, runs, net_info):
    """Diamond and random shape: training data with the outline, SSE and accuracy curves (paper Fig. 25)."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 9), layout="constrained")
    for row, name in enumerate(["diamond", "rshape"]):
        X, T = shapes[name]["train"]
        sel = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))[:2500]
        ax = axes[row, 0]
        ax.scatter(X[sel, 0], X[sel, 1], c=T[sel, 0], cmap="coolwarm", s=2, linewidths=0)
        ol = torch.cat([outlines[name], outlines[name][:1]])
        ax.plot(ol[:, 0], ol[:, 1], color="k", lw=1.5, label="true outline")
        ax.set_aspect("equal")
        ax.set_xlim(-1, 1), ax.set_ylim(-1, 1)
        shown = "diamond" if name == "diamond" else "random shape"
        ax.set_title(f"{shown}: {len(X):,} training points (2,500 shown)")
        ax.legend(loc="upper right", fontsize=8)
        criterion_curves(axes[row, 1], runs[name], "rerank", "sse", log=True)
        criterion_curves(axes[row, 2], runs[name], "rerank", "acc", test=True)
        axes[row, 1].set_title("SSE (training set)")
        axes[row, 2].set_title(f"accuracy (unpruned test acc. {net_info[name]['test_acc']:.3f})")
    axes[0, 1].legend(fontsize=8)
    fig.suptitle("2-D toys, Algorithm II")
    return fig


def diamond_boundaries_figure(net, result, outline, device, fractions=(0, 0.25, 0.5, 0.6, 0.75)):
    """The region where the diamond net says "inside" (o > 0.5) after removing each fraction, in BF order."""
    K = sum(net.hidden_sizes)
    g = torch.linspace(-1, 1, 301)
    G = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1).reshape(-1, 2).to(device)
    fig, axes = plt.subplots(1, 5, figsize=(17, 4), layout="constrained")
    for ax, p in zip(axes, fractions):
        n = round(p * K)
        with torch.no_grad():
            masks = [m.to(device) for m in result.masks_after(n)]
            inside = (net(G, masks)[:, 0] > 0.5).reshape(301, 301).cpu()
        ax.imshow(
            inside.numpy(),
            origin="lower",
            extent=(-1, 1, -1, 1),
            cmap=ListedColormap(["#f7f7f7", "#fdae6b"]),
            vmin=0,
            vmax=1,
        )
        ol = torch.cat([outline, outline[:1]])
        ax.plot(ol[:, 0], ol[:, 1], color="k", lw=1.2)
        ax.set_title(
            f"{100 * n / K:.0f}% removed ({n} of {K})\ntraining acc. {result.acc[n]:.3f}", fontsize=10
        )
        ax.set_xticks([-1, 0, 1]), ax.set_yticks([-1, 0, 1])
    fig.suptitle(
        "Diamond net, brute-force Algorithm II order: region with o > 0.5 (orange) and the true diamond"
    )
    return fig


def single_digit_figure(runs, net_info):
    """SSE against neurons removed for the one-vs-all nets, with SSE(0) dashed (paper Figs. 13, 17, 21)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
    for ax, name in zip(axes, ["digit0", "digit1", "digit2"]):
        rr = runs[name]
        for c in CRITERIA:
            ax.plot(rr["rerank", c].sse, color=color(c), lw=1.8, label=label(c))
        ax.axhline(rr["rerank", "bf"].sse[0], color="k", ls="--", lw=1, label="SSE before pruning")
        ax.set_xlabel("neurons removed")
        ax.set_ylabel("Sum of Squared Errors (training set)")
        ax.set_title(f"digit {name[-1]} vs rest: unpruned test acc. {net_info[name]['test_acc']:.4f}")
    axes[0].legend(fontsize=8)
    fig.suptitle("One-vs-all nets, Algorithm II")
    return fig


VARIANT_STYLE = {None: "-", "paper": "-", "legacy": "--"}


def taylor_variants_figure(variant_runs, net_info):
    """Alg. II on every net: BF and the Taylor criteria, paper's equations (solid) vs the authors' code (dashed)."""
    names = list(variant_runs)
    ncols = 3
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 3.6 * nrows), layout="constrained", squeeze=False)
    for ax, net_id in zip(axes.flat, names):
        regression = net_id.startswith("cos")
        for (c, v), r in variant_runs[net_id].items():
            y = np.asarray(r.sse if regression else r.acc, dtype=float) * (1 if regression else 100)
            lab = label(c) + {None: "", "paper": " (paper's equations)", "legacy": " (authors' code)"}[v]
            bf = c == "bf"  # drawn on top, wider and translucent, so a Taylor curve on it stays visible
            ax.plot(
                np.arange(len(y)),
                y,
                color=color(c),
                ls=VARIANT_STYLE[v],
                lw=3 if bf else 1.4,
                alpha=0.55 if bf else 1.0,
                zorder=3 if bf else 2,
                label=lab,
            )
        if regression:
            ax.set_yscale("log")
        else:
            ax.axhline(y[0] - 1, color="0.5", lw=1, ls=":", label="1 point below start")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        ax.set_ylabel("SSE (training set)" if regression else "training accuracy (%)")
        ax.set_xlabel("neurons removed")
        ax.set_title(f"{net_id}: {net_name(net_info[net_id]['sizes'])}", fontsize=10)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=5, fontsize=9)
    fig.suptitle(
        "Algorithm II: Taylor criteria from the paper's equations (solid) and the authors' code (dashed)"
    )
    return fig
