"""Figures of notebook 05 (head-to-head): accuracy vs compression, theoretical vs measured speedup, cost."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from ..plotting import color, compression_axis, label, marker

ORDER = [
    "gumbel", "thresholds", "relief", "neurons", "neurons_ft", "han", "han_rebuilt", "gradual", "magnitude_global",
    "random",
]  # fmt: skip
STYLE = {
    "neurons_ft": dict(ls="--"),
    "magnitude_global": dict(label="global magnitude (one-shot)"),
    "random": dict(label="random (one-shot)"),
}
MARK = {"dense with zeros": "s", "sparse CSR": "^", "compact": "o"}
PROFILE_WORDS = {
    "smoke": "smoke test: tiny data, the numbers mean nothing",
    "quick": "full MNIST, shortened schedules",
    "paper": "the papers' schedules",
}


def style(method: str) -> dict:
    """Colour, line style and label of a method in these figures."""
    base = {"color": color(method), "ls": "-", "label": label(method), "marker": marker(method)}
    return {**base, **STYLE.get(method, {})}


def curve(df):
    """Mean and range over seeds per knob value, sorted by compression."""
    g = df.groupby("value").agg(
        c=("compression_weights", "mean"),
        acc=("test_acc", "mean"),
        lo=("test_acc", "min"),
        hi=("test_acc", "max"),
        n=("seed", "nunique"),
    )
    return g.sort_values("c")


def _tradeoff_axes(ax, df, order=ORDER, alpha=1.0) -> None:
    for method in order:
        sub = df[df["method"] == method]
        if sub.empty:
            continue
        c, st = curve(sub), style(method)
        mark = "*" if len(c) == 1 else st["marker"]
        ax.plot(c["c"], 100 * c["acc"], marker=mark, ms=11 if len(c) == 1 else 5, color=st["color"], ls=st["ls"],
                label=st["label"], alpha=alpha, lw=1.5 if alpha == 1 else 1)  # fmt: skip
        if c["n"].max() > 1:
            ax.fill_between(c["c"], 100 * c["lo"], 100 * c["hi"], color=st["color"], alpha=0.15 * alpha, lw=0)


def tradeoff_figure(points, net: str, title: str, n_seeds: int, profile: str, short_epochs: float, bands=()):
    """Rows: the short and the own budget regime; left: every operating point; right: within 3 points of dense."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5), sharex=True)
    df = points[points["network"] == net]
    dense_acc = df[df["method"] == "dense"]["test_acc"].mean()
    titles = {
        "short": f"short budget: every point ≤ {short_epochs:g} epochs",
        "own": "each method's own budget",
    }
    for row, regime in enumerate(("short", "own")):
        sub = df[df["regime"] == regime]
        for ax in axes[row]:
            _tradeoff_axes(ax, sub)
            ax.axhline(100 * dense_acc, color=color("dense"), ls="--", lw=1, label="dense reference")
            for band in bands:
                ax.axvline(100 / band, color="0.75", ls=":", lw=0.8)
            compression_axis(ax)
            ax.set_xlim(1, 1024)
        axes[row, 0].set_ylim(max(0, 100 * sub["test_acc"].min() - 2), 100)
        axes[row, 0].set_ylabel("test accuracy (%)")
        axes[row, 0].set_title(f"{titles[regime]}: all points")
        axes[row, 1].set_ylim(100 * dense_acc - 3, 100 * dense_acc + 0.5)
        axes[row, 1].set_title(f"{titles[regime]}: within 3 points of dense")
    for ax in axes[1]:
        ax.set_xlabel("compression of the weights (total / nonzero, log scale; dotted: the bands)")
    fig.suptitle(
        f"{title}: accuracy vs compression ({PROFILE_WORDS.get(profile, profile)}), "
        f"{n_seeds} seed{'s' if n_seeds > 1 else ''}"
        + (" (line: mean, band: min-max)" if n_seeds > 1 else "")
    )
    handles, labels = axes[1, 0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=8)
    return fig


def _theoretical(ax, df) -> None:
    for method in ORDER:
        sub = df[df["method"] == method]
        if not sub.empty:
            g = sub.groupby("value")[["compression_weights", "speedup_theoretical"]].mean()
            g = g.sort_values("compression_weights")
            st = style(method)
            ax.plot(g["compression_weights"], g["speedup_theoretical"], marker=st["marker"], ms=4, color=st["color"],
                    ls=st["ls"], label=st["label"])  # fmt: skip
    ax.plot([1, 1024], [1, 1024], color="0.6", ls=":", lw=1, label="speedup = compression")
    compression_axis(ax)
    compression_axis(ax, "y")
    ax.set_xlabel("compression of the weights")


def _measured(ax, lat) -> None:
    floor = lat["noise_floor"].max() if "noise_floor" in lat and len(lat) else 0.0
    for _, row in lat.iterrows():
        ax.scatter(row["compression_weights"], row["speedup"], marker=MARK[row["representation"]],
                   color=style(row["method"])["color"], s=40, edgecolor="k", lw=0.4)  # fmt: skip
    ax.axhline(1, color=color("dense"), ls="--", lw=1)
    if floor:
        ax.axhspan(1 - floor, 1 + floor, color="0.85", zorder=0, label=f"noise floor ±{100 * floor:.0f}%")
    compression_axis(ax)
    compression_axis(ax, "y")
    ax.set_xlabel("compression of the weights")
    ax.set_ylabel("measured speedup over dense (same rounds)")


def speedup_figure(points, latency, nets: dict, threads: int):
    """Per network: the FLOP speedup each method promises, and the CPU speedup measured at batch 1 and 256."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 9.5), sharey="col")
    for r, net in enumerate(nets):
        ax = axes[r, 0]
        _theoretical(ax, points[(points["network"] == net) & (points["method"] != "dense")])
        ax.set_ylabel(f"{nets[net]}\ntheoretical speedup (dense / effective FLOPs)")
        ax.set_title("theoretical (dotted: speedup = compression)" if r == 0 else "")
        for c, b in enumerate((1, 256), start=1):
            _measured(axes[r, c], latency[(latency["network"] == net) & (latency["batch"] == b)])
            axes[r, c].set_title(f"measured on the CPU, batch {b}" if r == 0 else "")
    handles = [
        plt.Line2D([], [], marker=m, ls="", color="0.5", markeredgecolor="k", label=k)
        for k, m in MARK.items()
    ]
    axes[0, 2].legend(handles=handles, fontsize=8, loc="upper left", title="representation", title_fontsize=8)
    timed = [m for m in ORDER if m in set(latency["method"])]
    methods = [Patch(color=style(m)["color"], label=style(m)["label"]) for m in timed]
    fig.legend(
        handles=methods,
        loc="lower center",
        ncol=min(len(methods), 5) or 1,
        fontsize=8,
        title="method (colour, in every panel)",
        title_fontsize=8,
    )
    fig.suptitle(
        f"Speedup: FLOPs promise vs CPU time ({threads} threads; colours as in the trade-off figures)"
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def cost_figure(points, nets: dict, seed: int, profile: str):
    """Per network: the wall-clock cost of reaching each point, relative to one dense training."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    for ax, net in zip(axes, nets):
        df = points[(points["network"] == net) & (points["seed"] == seed)]
        dense_s = df[df["method"] == "dense"]["seconds"].iloc[0]
        for method in ORDER:
            sub = df[df["method"] == method].sort_values("compression_weights")
            if not sub.empty:
                st = style(method)
                ax.plot(sub["compression_weights"], np.maximum(sub["seconds"] / dense_s, 1e-4), marker=st["marker"], ms=5,
                        color=st["color"], ls=st["ls"], label=st["label"])  # fmt: skip
        ax.axhline(1, color=color("dense"), ls="--", lw=1, label="one dense training")
        compression_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel("compression of the weights")
        ax.set_title(f"{nets[net]} (seed {seed}; one dense training = {dense_s:.0f} s)")
    axes[0].set_ylabel("cost to reach the point / cost of dense training")
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Cost of each method ({PROFILE_WORDS.get(profile, profile)})")
    return fig


def added_method_figure(points, added, nets: dict, regime: str = "own"):
    """Per network: every method's mean curve (faint) in one regime, and a method added by the reader (bold)."""
    fig, axes = plt.subplots(1, len(nets), figsize=(6.5 * len(nets), 4.6), squeeze=False)
    for ax, net in zip(axes[0], nets):
        df = points[(points["network"] == net) & (points["regime"] == regime)]
        _tradeoff_axes(ax, df, alpha=0.35)
        new = added[added["network"] == net]
        _tradeoff_axes(ax, new, order=list(dict.fromkeys(new["method"])))
        dense = points[(points["network"] == net) & (points["method"] == "dense")]["test_acc"].mean()
        ax.axhline(100 * dense, color=color("dense"), ls="--", lw=1)
        compression_axis(ax)
        ax.set_xlim(1, 1024)
        ax.set_ylim(max(0, 100 * _lowest_acc(df, new) - 2), 100)
        ax.set_xlabel("compression of the weights (total / nonzero, log scale)")
        ax.set_title(f"{nets[net]}: {', '.join(map(label, dict.fromkeys(new['method'])))} (bold)")
    axes[0, 0].set_ylabel("test accuracy (%)")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=8)
    fig.suptitle(f"A new method among the others (each method's {regime} budget; dashed: dense)", y=1.02)
    return fig


def _lowest_acc(*frames) -> float:
    """The smallest test accuracy over several tables of points."""
    return float(min(f["test_acc"].min() for f in frames if len(f)))


def latency_tradeoff_figure(points, latency, nets: dict, batch: int = 256):
    """Per network: test accuracy against compression and against measured CPU time (compact models, `batch`).

    `latency` rows carry each timed point's test accuracy; `points` gives the dense model's.
    """
    fig, axes = plt.subplots(len(nets), 2, figsize=(13, 4.6 * len(nets)), squeeze=False)
    for r, net in enumerate(nets):
        lat = latency[
            (latency["network"] == net)
            & (latency["batch"] == batch)
            & (latency["representation"] == "compact")
        ]
        for method in ORDER:
            sub = lat[lat["method"] == method].sort_values("compression_weights")
            if sub.empty:
                continue
            st = style(method)
            y = 100 * sub["test_acc"]  # each timed point's own test accuracy (the seed of the table)
            kw = dict(marker=st["marker"], color=st["color"], ls=st["ls"], ms=6, label=st["label"])
            axes[r, 0].plot(sub["compression_weights"], y, **kw)
            axes[r, 1].plot(1e3 * sub["median_s"], y, **kw)
        dense_acc = (
            100 * points[(points["network"] == net) & (points["method"] == "dense")]["test_acc"].mean()
        )
        for ax in axes[r]:
            ax.axhline(dense_acc, color=color("dense"), ls="--", lw=1, label="dense")
            ax.set_ylabel(f"{nets[net]}\ntest accuracy (%)")
        if len(lat):
            axes[r, 1].axvline(1e3 * lat["dense_median_s"].median(), color=color("dense"), ls=":", lw=1,
                               label="dense model's time")  # fmt: skip
        compression_axis(axes[r, 0])
        axes[r, 0].set_xlabel("compression of the weights")
        axes[r, 1].set_xscale("log")
        axes[r, 1].set_xlabel(f"measured time per batch of {batch}, compact model (ms, log scale)")
        axes[r, 0].set_title("what the weights count says" if r == 0 else "")
        axes[r, 1].set_title("what a deployer gets on this CPU" if r == 0 else "")
    axes[0, 1].legend(fontsize=8, loc="lower right")
    fig.suptitle(
        "Accuracy against compression and against measured latency (timed points, seed of the table)"
    )
    fig.tight_layout()
    return fig
