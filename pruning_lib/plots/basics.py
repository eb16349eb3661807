"""Figures of notebook 00 (pruning basics): one-shot curves, Han's per-layer result, histograms, first layer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullLocator

from ..masks import prunable_layers
from ..plotting import color, compression_axis, label, percent_log_axis

PROFILE_WORDS = {
    "smoke": "smoke test: tiny data, numbers meaningless",
    "quick": "full MNIST, shortened schedules",
    "paper": "full MNIST, the paper's schedule",
}


def oneshot_figure(oneshot, dense_acc: float, profile: str):
    """Test accuracy of one-shot pruning (no retraining) against compression, one line per method."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for method, df in oneshot.groupby("method", sort=False):
        ax.plot(
            df["compression_weights"], 100 * df["test_acc"], "o-", color=color(method), label=label(method)
        )
    ax.axhline(100 * dense_acc, color=color("dense"), ls="--", lw=1, label="dense")
    ax.axhline(10, color="0.6", ls=":", lw=1, label="chance (10%)")
    compression_axis(ax)
    ax.set_xlabel("compression (total / nonzero weights, log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"One-shot pruning of LeNet-300-100, no retraining\n({PROFILE_WORDS.get(profile, profile)})")
    ax.legend(loc="lower left")
    return fig


def _per_layer_bars(ax, per_layer) -> None:
    layers = list(per_layer.index)
    x = np.arange(len(layers))
    ax.bar(
        x - 0.2, per_layer["Han 2015: weights left %"], 0.4, color="0.75", label="Han et al. 2015 (Table 2)"
    )
    ax.bar(x + 0.2, per_layer["reproduced: weights left %"], 0.4, color=color("han"), label="reproduced")
    for xi, v in zip(x + 0.2, per_layer["reproduced: weights left %"]):
        ax.text(xi, v + 0.5, f"{v:.1f}", ha="center", fontsize=8)
    ax.set_xticks(x, layers)
    ax.set_ylabel("weights left (%)")
    ax.set_title("Per-layer weights left after pruning")
    ax.legend()


def _iterations(ax2, han_hist, dense_acc: float) -> None:
    k = han_hist["iteration"]
    ax2.plot(k, han_hist["weights_pct"], "o-", color=color("han"), label="weights left")
    percent_log_axis(ax2)
    ax2.set_yticks([1, 2, 5, 10, 20, 50, 100])
    ax2.set_ylim(0.8 * han_hist["weights_pct"].min(), 110)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("weights left (log scale)", color=color("han"))
    ax3 = ax2.twinx()
    ax3.plot(k, 100 * han_hist["test_acc_pruned"], "v--", color="0.4", label="test acc. after pruning")
    ax3.plot(k, 100 * han_hist["test_acc_retrained"], "s-", color="k", label="test acc. after retraining")
    ax3.axhline(100 * dense_acc, color="k", ls=":", lw=1, label="dense test acc.")
    ax3.set_ylabel("test accuracy (%)")
    ax3.grid(False)
    ax2.set_title("Prune, then retrain, K times")
    lines = ax2.get_legend_handles_labels()[0] + ax3.get_legend_handles_labels()[0]
    ax3.legend(lines, [h.get_label() for h in lines], loc="lower left", fontsize=8)


def han_figure(per_layer, han_hist, dense_acc: float):
    """Left: weights left per layer, Han's table next to ours; right: the prune-retrain iterations."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.1, 1]})
    _per_layer_bars(ax, per_layer)
    _iterations(ax2, han_hist, dense_acc)
    return fig


def han_histograms(dense, pruned, retrained):
    """Per layer: the dense weights, those kept right after pruning, and the same survivors after retraining."""
    fig, axes = plt.subplots(1, 3, figsize=(12.5, 3.4))
    dense_layers, pruned_layers = prunable_layers(dense), prunable_layers(pruned)
    for ax, (name, m) in zip(axes, prunable_layers(retrained).items()):
        w_dense = dense_layers[name].weight.detach().cpu().flatten()
        w_pruned = pruned_layers[name].weight.detach().cpu().flatten()
        w_pruned, w_kept = w_pruned[w_pruned != 0], m.weight.detach().cpu().flatten()
        w_kept = w_kept[w_kept != 0]
        lo, hi = (float(f(torch.cat([w_dense, w_kept]))) for f in (torch.min, torch.max))
        bins = np.linspace(lo, hi, 101)
        ax.hist(w_dense.numpy(), bins=bins, color="0.8", histtype="stepfilled", label="dense")
        ax.hist(w_pruned.numpy(), bins=bins, color="0.2", histtype="step", lw=1.2,
                label="pruned, before retraining")  # fmt: skip
        ax.hist(w_kept.numpy(), bins=bins, color=color("han"), alpha=0.6, histtype="stepfilled",
                label="pruned, after retraining")  # fmt: skip
        ax.set_yscale("log")
        ax.set_title(f"{name}: {len(w_kept):,} of {len(w_dense):,} weights kept")
        ax.set_xlabel("weight value")
    axes[0].set_ylabel("number of weights (log scale)")
    axes[0].legend(fontsize=8, loc="upper left")
    return fig


def first_layer_figure(dense, pruned, n_units: int = 6):
    """The first-layer weights of the units that keep the most inputs, and how many units read each pixel."""
    kept = pruned.fc1.weight.detach().cpu().ne(0).sum(1).tolist()
    units = sorted(range(len(kept)), key=lambda u: -kept[u])[:n_units]
    fig = plt.figure(figsize=(12, 4.2))
    grid = fig.add_gridspec(2, n_units + 1, width_ratios=[1] * n_units + [1.5])
    for col, u in enumerate(units):
        for row, (model, name) in enumerate([(dense, "dense"), (pruned, "pruned")]):
            ax = fig.add_subplot(grid[row, col])
            w = model.fc1.weight.detach().cpu()[u].view(28, 28)
            lim = float(w.abs().max()) or 1.0
            ax.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([]), ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(name)
            if row == 0:
                ax.set_title(f"unit {u}\n{kept[u]} of 784 inputs", fontsize=9)
    ax = fig.add_subplot(grid[:, n_units])
    reads = pruned.fc1.weight.detach().cpu().ne(0).sum(0).view(28, 28)
    im = ax.imshow(reads, cmap="viridis")
    ax.set_title("units reading each pixel", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(
        f"First-layer weights (red +, blue −) of the {n_units} hidden units that keep the most inputs, "
        "before and after pruning"
    )
    return fig, int((reads == 0).sum())


def sensitivity_figure(scan, dense_acc: float):
    """Validation accuracy with one layer pruned at a time (no retraining), one line per layer."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, (name, df) in enumerate(scan.groupby("layer", sort=False)):
        ax.plot(1 / (1 - df["removed"]), 100 * df["val_acc"], "os^"[i % 3] + "-", label=f"only {name} pruned")
    ax.axhline(100 * dense_acc, color=color("dense"), ls="--", lw=1, label="dense")
    ax.axhline(10, color="0.6", ls=":", lw=1, label="chance (10%)")
    removed = sorted(scan["removed"].unique())
    ax.set_xscale("log")
    ax.set_xticks([1 / (1 - f) for f in removed], [f"{100 * f:g}%" for f in removed])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("weights removed from that one layer (spaced as log of total / kept)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Sensitivity of each layer of LeNet-300-100 to magnitude pruning")
    ax.legend(loc="lower left")
    return fig
