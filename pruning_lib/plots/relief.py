"""Figures of notebook 03 (NNrelief, Dekhovich et al. 2024): one unit's scores, iterations, layers, receptive fields."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, PowerNorm
from matplotlib.ticker import MaxNLocator

from ..masks import get_mask
from ..plotting import color, percent_log_axis

WHITE_DIVERGING = LinearSegmentedColormap.from_list("white_diverging", ["#2166ac", "#ffffff", "#b2182b"])


def plot_importance(s_unit, keep_unit, prune_X, unit: int, p0: int, alpha_fc: float):
    """Four panels on one first-layer unit: sorted scores, cumulative share and the cut, score map, kept pixels."""
    srt, order = s_unit.sort(descending=True)
    rank = torch.arange(1, len(srt) + 1)
    bias_rank = int((order == len(s_unit) - 1).nonzero()) + 1
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2), gridspec_kw={"width_ratios": [1.25, 1.25, 1, 1]},
                             layout="constrained")  # fmt: skip
    ax = axes[0]
    pos = srt > 0
    ax.semilogy(rank[pos], srt[pos], ".", ms=3, color=color("relief"), label="connection")
    if srt[bias_rank - 1] > 0:
        ax.semilogy(
            [bias_rank], [srt[bias_rank - 1]], "*", color="#1f4fd8", ms=13, label=f"bias (rank {bias_rank})"
        )
    ax.axvline(p0, color="k", ls="--", lw=1, label=f"cut: p0 = {p0}")
    ax.set_xlabel("rank (sorted by score)")
    ax.set_ylabel("normalised score $s_{ji}$ (log)")
    ax.set_title(f"unit {unit}: {int(pos.sum())} nonzero of 785 scores")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(rank, srt.cumsum(0), color=color("relief"))
    ax.axhline(alpha_fc, color="0.4", ls=":", label=f"α = {alpha_fc}")
    ax.axvline(p0, color="k", ls="--", lw=1, label=f"p0 = {p0}")
    ax.set_xscale("log")
    ax.set_xlabel("number of strongest candidates kept (log)")
    ax.set_ylabel("cumulative share of the unit's input")
    ax.set_title("the α cut: shortest prefix reaching α")
    ax.legend(loc="lower right", fontsize=8)
    ax = axes[2]
    im = ax.imshow(s_unit[:-1].view(28, 28), cmap="magma", norm=PowerNorm(0.5))
    fig.colorbar(im, ax=ax, fraction=0.046, label="score (sqrt colour scale)")
    ax.set_title("scores $s_{ji}$ over the image")
    ax.set_xticks([]), ax.set_yticks([])
    ax = axes[3]
    ax.imshow(prune_X.mean(0).view(28, 28), cmap="gray_r")
    km = keep_unit[:-1].view(28, 28).float()
    ax.imshow(np.ma.masked_where(km.numpy() == 0, km.numpy()), cmap=ListedColormap([color("relief")]),
              alpha=0.75, vmin=0, vmax=1)  # fmt: skip
    ax.set_title(f"kept inputs (orange) over the mean\npruning image: {int(km.sum())} of 784 pixels")
    ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("NNrelief on one first-layer neuron of the dense LeNet-300-100 (Adam)")
    return fig


def percent_ticks(ax, values) -> None:
    """Readable log-scale percentage ticks spanning `values` (1-2-5 steps)."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo / 2.5 <= t <= hi * 1.5]
    percent_log_axis(ax)
    ax.set_yticks(ticks)
    ax.set_ylim(lo / 1.4, hi * 1.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _accuracy_panel(ax2, hist, op, drop) -> None:
    """Test accuracy before/after retraining, validation and its threshold, the allowed-drop band."""
    c = color("relief")
    k = hist["iteration"]
    dense_acc = 100 * hist["test_acc"].iloc[0]
    ax2.axhspan(dense_acc - drop, dense_acc, color="0.85", label=f"allowed test drop ({drop} pp)")
    ax2.axhline(dense_acc, color=color("dense"), ls="--", lw=1, label="dense (test)")
    ax2.plot(k[1:], 100 * hist["test_acc_pruned"][1:], "v:", color="0.45", ms=4, label="test, after pruning")
    ax2.plot(k, 100 * hist["test_acc"], "o-", color=c, ms=4, label="test, after retraining")
    vc = "#1f4fd8"
    ax2.plot(
        k,
        100 * hist["val_acc"],
        "s--",
        color=vc,
        ms=3,
        lw=1,
        alpha=0.7,
        label="validation (after retraining)",
    )
    threshold = 100 * hist["val_acc"].iloc[0] - drop
    ax2.axhline(threshold, color=vc, ls=":", lw=1, label="validation threshold")
    miss = hist[(k >= 1) & (100 * hist["val_acc"] < threshold - 1e-9)]
    if len(miss):  # the rule stop_at_first_miss stops before it
        t = miss["iteration"].iloc[0]
        ax2.plot(
            [t],
            [100 * miss["val_acc"].iloc[0]],
            "x",
            color="#b2182b",
            ms=10,
            mew=2,
            label=f"first validation miss ({t})",
        )
    ax2.axvline(op, color="k", lw=0.8, ls=":")
    shown = pd.concat([hist["test_acc"], hist["val_acc"], hist["test_acc_pruned"][1:]]).dropna()
    ax2.set_ylim(min(100 * shown.min(), dense_acc - 2 * drop) - 0.2, max(100 * shown.max(), dense_acc) + 0.3)
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("accuracy (%)")
    ax2.set_title("accuracy (validation selects; test is only reported)")
    ax2.legend(fontsize=7, loc="lower left", ncol=2)


def plot_iterations(hist, entry, title: str, profile: str, max_drop_pp: float):
    """Left: remaining % per iteration (log) with the target; right: test accuracy before/after retraining."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    c = color("relief")
    k = hist["iteration"]
    op = entry["operating_point"]["iteration"]
    ax.plot(k, hist["params_pct"], "o-", color=c, ms=4, label="all parameters")
    ax.plot(k, hist["weights_pct"], "--", color=c, alpha=0.6, label="weights only")
    tgt = entry["target"]["max_remaining_pct"]
    if tgt is not None:
        ax.axhline(tgt, color="k", ls=":", lw=1.2, label=f"target ≤ {tgt:g}% ({profile})")
    ax.plot(
        [op],
        [hist.set_index("iteration").loc[op, "params_pct"]],
        "k*",
        ms=14,
        label=f"operating point ({op})"
        if entry["operating_point"].get("found", True)
        else f"iteration {op}: none within tolerance on validation",
    )
    percent_ticks(ax, list(hist["weights_pct"]) + list(hist["params_pct"]) + ([tgt] if tgt else []))
    ax.set_xlabel("iteration")
    ax.set_ylabel("remaining (log scale)")
    ax.set_title("connections left")
    ax.legend(fontsize=8)
    _accuracy_panel(ax2, hist, op, max_drop_pp)
    fig.suptitle(title)
    return fig


def plot_per_layer(per_layer: dict, titles: dict, figsize=None):
    """Per network (rows): connections left per layer (log bars) and alive units per layer (alive/total bars)."""
    fig, axes = plt.subplots(len(titles), 2, figsize=figsize or (12, 3.75 * len(titles)), squeeze=False)
    for row, (key, title) in enumerate(titles.items()):
        t = per_layer[key]["iteration"]
        layer_names, pct = (
            list(per_layer[key]["remaining_pct"]),
            list(per_layer[key]["remaining_pct"].values()),
        )
        alive = per_layer[key]["alive_units"]
        ax = axes[row, 0]
        bars = ax.bar(layer_names, pct, color=color("relief"))
        many = len(layer_names) > 6  # CIFAR networks: vertical labels
        ax.bar_label(bars, [f"{v:.2f}%" if v < 10 else f"{v:.1f}%" for v in pct],
                     **({"fontsize": 7, "rotation": 90, "padding": 2} if many else {"fontsize": 9}))  # fmt: skip
        if many:
            ax.tick_params(axis="x", labelrotation=90, labelsize=8)
        percent_log_axis(ax)
        ax.set_ylim(max(min(pct + [1]), 0.01) / 3, 300)
        ax.set_ylabel("connections left (log)")
        ax.set_title(f"{title}: connections per layer (iteration {t})")
        ax = axes[row, 1]
        names = list(alive)
        frac = [100 * alive[n][0] / alive[n][1] for n in names]
        ax.barh(names, [100] * len(names), color="0.88")
        ax.barh(names, frac, color=color("relief"))
        for i, n in enumerate(names):
            ax.text(101, i, f" {alive[n][0]}/{alive[n][1]}", va="center", fontsize=9)
        ax.set_xlim(0, 125)
        ax.invert_yaxis()
        ax.set_xlabel("alive units, % of the layer (grey: removed)")
        ax.set_title(f"{title}: alive units (iteration {t})")
    fig.tight_layout()
    return fig


def plot_receptive_fields(net, iteration: int):
    """Up to 64 alive first-layer units of a pruned LeNet-300-100 as 28 x 28 weight maps, and pixels read."""
    w1 = net.fc1.weight.detach().cpu()
    reads = get_mask(net.fc1).cpu()
    alive1 = reads.any(1) & get_mask(net.fc2).cpu().any(0)
    units = [u for u in torch.argsort(reads.sum(1), descending=True, stable=True).tolist() if alive1[u]][:64]
    ncol = 8
    nrow = max(1, int(np.ceil(len(units) / ncol)))
    kept = w1[units][reads[units]].abs()
    lim = (
        float(kept.quantile(0.98)) if len(kept) else 1.0
    )  # one shared scale; the 2% largest weights saturate
    fig = plt.figure(figsize=(16, 1.75 * nrow + 2.0), layout="constrained")
    grid = fig.add_gridspec(nrow, ncol + 2, width_ratios=[1] * ncol + [0.2, 3.6])
    axes, im = [], None
    for i, u in enumerate(units):
        ax = fig.add_subplot(grid[i // ncol, i % ncol])
        im = ax.imshow(w1[u].view(28, 28), cmap=WHITE_DIVERGING, vmin=-lim, vmax=lim)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"unit {u}: {int(reads[u].sum())} px", fontsize=9)
        axes.append(ax)
    if im is not None:
        fig.colorbar(im, ax=axes, location="bottom", shrink=0.5, aspect=40, extend="both",
                     label="weight of a kept connection (red +, blue −; white: pruned)")  # fmt: skip
    ax = fig.add_subplot(grid[nrow // 4 : max(nrow - nrow // 4, 1), ncol + 1])
    count = reads[alive1].sum(0).view(28, 28)
    im2 = ax.imshow(count, cmap="viridis")
    fig.colorbar(im2, ax=ax, location="right", shrink=0.8, label="alive units reading the pixel")
    ax.set_title(f"pixels read by all alive units:\n{int((count > 0).sum())} of 784 still read", fontsize=11)
    ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(f"First-layer receptive fields after NNrelief: {int(alive1.sum())} of 300 units alive at "
                 f"iteration {iteration}; the {len(units)} that read the most pixels, one shared colour scale",
                 fontsize=14)  # fmt: skip
    return fig


def plot_optimizers(arms: dict, target_pct: float | None, alpha_fc: float, profile: str):
    """Remaining % and test accuracy per iteration of the Adam and SGD arms: arms = {arm: (hist, entry, colour)}."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    for arm, (h, e, c) in arms.items():
        name = "Adam" if arm == "adam" else "SGD"
        ax.plot(
            h["iteration"],
            h["params_pct"],
            "o-",
            ms=4,
            color=c,
            label=arm.upper() if arm == "sgd" else "Adam",
        )
        ax2.plot(h["iteration"], 100 * h["test_acc"], "o-", ms=4, color=c, label=name)
        ax2.axhline(100 * h["test_acc"].iloc[0], color=c, ls="--", lw=1, label=f"dense ({name})")
        t = e["operating_point"]["iteration"]
        ax.plot([t], [e["operating_point"]["params_pct"]], "*", color=c, ms=14, mec="k")
    if target_pct is not None:
        ax.axhline(target_pct, color="k", ls=":", lw=1.2, label=f"target ≤ {target_pct:g}%")
    hists = [h for h, _, _ in arms.values()]
    percent_ticks(
        ax, [v for h in hists for v in h["params_pct"]] + ([target_pct] if target_pct is not None else [])
    )
    ax.set_xlabel("iteration")
    ax.set_ylabel("remaining parameters (log scale)")
    ax.set_title("compression (★ operating point)")
    ax.legend(fontsize=8)
    low = min(100 * h["test_acc"].min() for h in hists)
    ax2.set_ylim(max(low - 0.3, 0), 100 * max(h["test_acc"].max() for h in hists) + 0.3)
    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("test accuracy after retraining (%)")
    ax2.set_title("accuracy")
    ax2.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"NNrelief on LeNet-300-100 with Adam and with SGD (α = {alpha_fc}, {profile})")
    return fig


def plot_alpha_and_rules(table, alpha_fc: float, epochs: float):
    """Left: remaining % per alpha after each short iteration; middle: test accuracy; right: the rule ablation."""
    sweep = table[table["arm"] == "alpha"]
    rules = table[table["arm"] != "alpha"]
    T = int(table["iteration"].max())
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6), gridspec_kw={"width_ratios": [1, 1, 1.25]},
                             layout="constrained")  # fmt: skip
    shades = plt.cm.Oranges(np.linspace(0.45, 0.95, T))
    ax, ax2 = axes[0], axes[1]
    dense_acc = 100 * float(sweep[sweep["iteration"] == 0]["test_acc"].iloc[0])
    for t, c in zip(range(1, T + 1), shades):
        at = sweep[sweep["iteration"] == t].sort_values("alpha")
        ax.plot(at["alpha"], at["params_pct"], "o-", color=c, label=f"after iteration {t}")
        if epochs:
            ax2.plot(at["alpha"], 100 * at["test_acc"], "o-", color=c, label=f"iteration {t}, retrained")
        ax2.plot(
            at["alpha"], 100 * at["test_acc_pruned"], "v:", color=c, ms=4, label=f"iteration {t}, just pruned"
        )
    ax2.axhline(dense_acc, color=color("dense"), ls="--", lw=1, label="dense")
    percent_ticks(ax, list(sweep["params_pct"]))
    ax.xaxis.set_major_locator(plt.FixedLocator(sorted(sweep["alpha"].unique())))
    for a in (ax, ax2):
        a.axvline(alpha_fc, color="0.6", lw=0.8, ls=":")
        a.set_xlabel("α (share of each unit's importance kept)")
    ax.set_ylabel("parameters remaining (log scale)")
    ax.set_title("α sets how much one pruning call keeps")
    ax.legend(fontsize=8)
    ax2.set_ylabel("test accuracy (%)")
    ax2.set_title("accuracy at each α")
    ax2.legend(fontsize=7, ncol=2, loc="lower right")
    ax2.xaxis.set_major_locator(plt.FixedLocator(sorted(sweep["alpha"].unique())))
    ax3 = axes[2]
    names = list(dict.fromkeys(rules["arm"]))
    final = rules[rules["iteration"] == T].set_index("arm").loc[names]
    colours = [color("relief"), "#6a3d9a", "#1f4fd8", "0.5"]
    bars = ax3.barh(names, final["params_pct"], color=colours[: len(names)])
    ax3.bar_label(bars, [f" {p:.2f}% left, test {100 * a:.2f}%" for p, a in zip(final["params_pct"], final["test_acc"])],
                  fontsize=9)  # fmt: skip
    ax3.set_xlim(0, 1.6 * float(final["params_pct"].max()))
    ax3.invert_yaxis()
    ax3.set_xlabel(f"parameters remaining after iteration {T} (%)")
    ax3.set_title(f"the two rules from the authors' code, switched off (α = {alpha_fc})")
    retrain = f"{epochs:g} epochs of retraining after each" if epochs else "no retraining"
    its = f"{T} short iteration{'s' if T > 1 else ''}"
    fig.suptitle(f"NNrelief on LeNet-300-100: {its} ({retrain}) per α and per rule set")
    return fig
