"""Figures of notebook 02 (differentiable thresholds): v^β and its gradients, thresholds in training, histograms,
the trade-off against Han et al., per-layer bars, the regularizer ablation and the transfer proxy.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..masks import prunable_layers
from ..methods.thresholds import REGULARIZERS, v_grads, v_hard, v_reference
from ..plotting import color, label, percent_log_axis


def log_pct_axis(ax, values, axis="y"):
    """A log axis of percentages whose ticks (1%, 2%, 5%, ...) cover `values`."""
    percent_log_axis(ax, axis)
    vals = [float(v) for v in values if v is not None and np.isfinite(v) and v > 0] or [1.0, 100.0]
    lo, hi = min(vals) / 1.3, min(100.0, max(vals)) * 1.3
    ticks = [t for t in (0.5, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100) if lo <= t <= hi]
    (ax.set_yticks if axis == "y" else ax.set_xticks)(ticks)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo, hi)


def beta_colors(betas):
    """One viridis colour per sharpness β."""
    return plt.cm.viridis(np.linspace(0.05, 0.85, len(betas)))


def pruning_functions(x, t, betas, colors):
    """v^β(x, t) for increasing β against the identity and the hard threshold, full range and zoomed on x = t."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, (lo, hi) in zip(axes, [(-3.0, 3.0), (0.5, 1.5)]):
        sel = (x >= lo) & (x <= hi)
        xs = x[sel]
        ax.plot(xs, xs, ":", color="0.45", lw=1.2, label="identity")
        for b, col in zip(betas, colors):
            ax.plot(xs, v_reference(xs, t, b), color=col, lw=1.6, label=f"v^β, β = {b}")
        for piece in (xs < -t, xs.abs() <= t, xs > t):  # the hard threshold, drawn without its jumps
            if piece.any():
                ax.plot(xs[piece], v_hard(xs[piece], t), color="k", lw=3, alpha=0.6, zorder=0)
        ax.plot([], [], color="k", lw=3, alpha=0.6, label="hard threshold h")
        ax.axvline(t, color="0.6", lw=0.8, ls="--")
        ax.set_xlabel("weight x")
        ax.set_ylabel("pruned weight v(x, t)")
    axes[0].axvline(-t, color="0.6", lw=0.8, ls="--")
    axes[0].set_title(f"v^β(x, t = {t:g}) for increasing sharpness β")
    axes[1].set_title(f"zoom on the threshold x = t = {t:g}")
    axes[0].legend(loc="upper left", fontsize=8)
    return fig


def threshold_gradients(x, t, betas, colors, band_beta: float = 100.0):
    """∂v/∂x and ∂v/∂t (autograd, symlog) per β, with the band ||x| − t| < 12/β shaded for `band_beta`."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharex=True)
    for b, col in zip(betas, colors):
        gx, gt = v_grads(x, t, b)
        axes[0].plot(x, gx, color=col, lw=1.4, label=f"β = {b}")
        axes[1].plot(x, gt, color=col, lw=1.4, label=f"β = {b}")
    titles = ["∂v/∂x (how a weight's gradient passes through)", "∂v/∂t (what the threshold learns from)"]
    for ax, what in zip(axes, titles):
        ax.set_yscale("symlog", linthresh=1e-3)
        for s_ in (-1, 1):
            ax.axvline(s_ * t, color="0.3", lw=0.8, ls="--")
            ax.axvspan(s_ * t - 12 / band_beta, s_ * t + 12 / band_beta, color="tab:red", alpha=0.12,
                       label=f"||x| − t| < 12/β, β = {band_beta:g}" if s_ == 1 else None)  # fmt: skip
        ax.set_xlabel(f"weight x  (t = {t:g}, dashed)")
        ax.set_title(what)
    axes[0].set_ylabel("derivative (symlog scale)")
    axes[1].legend(loc="lower left", fontsize=8)
    return fig


def threshold_trajectories(runs: dict, lam: float):
    """Per network (title -> history): τ per layer and the hard % of weights left during the joint phase."""
    fig, axes = plt.subplots(len(runs), 2, figsize=(12, 7.5), layout="constrained", squeeze=False)
    for row, (title, hist) in enumerate(runs.items()):
        joint = hist[hist["phase"] == "joint"]
        layers = [c[4:] for c in joint.columns if c.startswith("tau_")]
        pal = plt.cm.tab10(np.arange(len(layers)))
        for layer, col in zip(layers, pal):
            axes[row, 0].plot(joint["step"], joint[f"tau_{layer}"], color=col, label=layer)
            axes[row, 1].plot(joint["step"], joint[f"{layer}_pct"], color=col, lw=1.2, label=layer)
        axes[row, 1].plot(joint["step"], joint["weights_pct"], color="k", lw=2.6, label="total")
        pcts = joint[[f"{layer}_pct" for layer in layers] + ["weights_pct"]].to_numpy().ravel()
        log_pct_axis(axes[row, 1], pcts)
        axes[row, 0].set_ylabel("τ = t / s (threshold in dense stds)")
        axes[row, 1].set_ylabel("hard % of weights remaining (log)")
        axes[row, 0].set_title(f"{title}: learned thresholds (λ = {lam:g})")
        axes[row, 1].set_title(f"{title}: weights left if masked now")
        for ax in axes[row]:
            ax.set_xlabel("joint step")
            ax.legend(fontsize=8, loc="best")
    return fig


def _nonzero_weights(model, name):
    """The flattened weights of layer `name` (on the CPU)."""
    return prunable_layers(model)[name].weight.detach().cpu().flatten()


def weight_histograms(rows):
    """Per network and layer: dense weights (grey), ours kept (colour), Han kept (outline), learned ±t dashed.

    `rows` is a list of (title, dense model, our pruned model, Han's pruned model, {layer: t}).
    """
    ncol = max(len(prunable_layers(dense)) for _, dense, *_ in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(3.4 * ncol, 6.6), squeeze=False, layout="constrained")
    for row, (title, dense, ours_m, han_m, thresholds) in enumerate(rows):
        layers = prunable_layers(dense)
        for col in range(ncol):
            ax = axes[row, col]
            if col >= len(layers):
                ax.axis("off")
                continue
            name = list(layers)[col]
            w_dense = layers[name].weight.detach().cpu().flatten()
            w_ours, w_han = _nonzero_weights(ours_m, name), _nonzero_weights(han_m, name)
            w_ours, w_han = w_ours[w_ours != 0], w_han[w_han != 0]
            lo = float(
                min(w_dense.min(), w_ours.min() if len(w_ours) else 0, w_han.min() if len(w_han) else 0)
            )
            hi = float(
                max(w_dense.max(), w_ours.max() if len(w_ours) else 0, w_han.max() if len(w_han) else 0)
            )
            bins = np.linspace(lo, hi, 102)
            ax.hist(w_dense.numpy(), bins=bins, color="0.75", label="dense")
            ax.hist(w_ours.numpy(), bins=bins, color=color("thresholds"), alpha=0.85, label="our run, kept")
            ax.hist(
                w_han.numpy(),
                bins=bins,
                histtype="step",
                color=color("han_rebuilt"),
                lw=1.1,
                label="Han et al. (rebuilt), kept",
            )
            for sgn in (-1, 1):
                ax.axvline(sgn * thresholds[name], color="k", ls="--", lw=0.9)
            ax.set_yscale("log")
            ax.set_title(f"{title} {name}: {len(w_ours):,}/{len(w_dense):,} kept", fontsize=9)
            ax.set_xlabel("weight value")
        axes[row, 0].set_ylabel("count (log)")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    return fig


def _errbar(ax, df, fmt, col, lab, **kw):
    """Test error with its 95% interval against % of weights kept, for the rows of one method."""
    lo = np.array([i[0] for i in df["95% interval"]])
    hi = np.array([i[1] for i in df["95% interval"]])
    y = df["test_error_pct"].to_numpy(dtype=float)
    ax.errorbar(df["weights_pct"], y, yerr=[y - lo, hi - y], fmt=fmt, color=col, label=lab, capsize=3, **kw)


def _tradeoff_panel(ax, table, *, title, dense_err, op, target, profile, reg):
    """One network's test error (95% intervals) against % of weights kept, every method with its budget."""
    if target is not None:
        pct, err = target
        ax.add_patch(plt.Rectangle((0.01, 0), pct - 0.01, err, color="tab:green", alpha=0.1,
                                   label=f"{profile} target we set"))  # fmt: skip
    ours = table[table["method"].str.startswith("our ")]
    han = table[table["method"] == "Han et al. (rebuilt)"]
    grad = table[table["method"].str.startswith("gradual")]
    pub = table[table["method"] == "Han et al. 2015 (published)"]
    ep = ours["epochs"].iloc[0] if len(ours) else 0
    _errbar(ax, ours, "o-", color("thresholds"), f"our run, λ sweep ({reg}), {ep:g} ep")
    for i, (_, r) in enumerate(ours.iterrows()):
        ax.annotate(r["knob"], (r["weights_pct"], r["test_error_pct"]), fontsize=8, color=color("thresholds"),
                    xytext=(4, 5 if i % 2 == 0 else -12), textcoords="offset points")  # fmt: skip
    if len(grad):
        _errbar(
            ax,
            grad,
            "D--",
            color("gradual"),
            f"gradual magnitude (Zhu & Gupta), {grad['epochs'].iloc[0]:g} ep",
        )
    if len(han):
        _errbar(
            ax, han, "s", color("han_rebuilt"), f"Han et al. (rebuilt), {han['epochs'].iloc[0]:g} ep", ms=8
        )
    if len(pub):
        ax.plot(pub["weights_pct"], pub["test_error_pct"], "*", ms=14, color="gold", mec="k",
                label="Han et al. 2015, published")  # fmt: skip
    ax.axhline(dense_err, color=color("dense"), ls="--", lw=1, label="dense (our run)")
    star = table[table["method"] == "our operating point"]
    if op["lam"] is not None and len(star):
        ax.plot(star["weights_pct"], star["test_error_pct"], "o", ms=15, mfc="none", mec="k",
                label="our operating point, chosen on validation")  # fmt: skip
    pts = table[table["method"] != "dense"]
    log_pct_axis(ax, pts["weights_pct"], "x")
    his = [i[1] for i in pts["95% interval"] if isinstance(i, list | tuple)]
    ys_ = [*pts["test_error_pct"].astype(float), dense_err, *his]
    ax.set_ylim(max(0.0, 0.8 * min(ys_) - 0.05), max(ys_) + 0.15 * (max(ys_) - min(ys_)) + 0.1)
    ax.set_xlabel("% of weights remaining (log scale)")
    ax.set_ylabel("test error (%), 95% interval")
    ax.set_title(f"{title}: error vs weights kept ({profile})")


def tradeoff(tables: dict, nets: dict, *, dense_err, op, targets, profile, reg):
    """Test error (95% intervals) against % of weights kept per network: ours, Han rebuilt and published, gradual.

    `tables` maps network -> the notebook's comparison table (method, knob, epochs, weights_pct, test_error_pct,
    95% interval); `nets` maps network -> title; `dense_err`, `op`, `targets` (None: ungraded) are by network.
    """
    fig, axes = plt.subplots(
        1, len(nets), figsize=(6.5 * len(nets), 5.4), layout="constrained", squeeze=False
    )
    axes = axes.ravel()  # one panel per network (one network alone: one panel)
    for ax, (net, title) in zip(axes, nets.items()):
        _tradeoff_panel(ax, tables[net], title=title, dense_err=dense_err[net], op=op[net],
                        target=targets[net] if targets else None, profile=profile, reg=reg)  # fmt: skip
    for ax in axes:
        ax.legend(fontsize=7.5, loc="upper right")
    return fig


def per_layer_remaining(panels):
    """Grouped bars of % of weights left per layer: Han published, Han et al. (rebuilt) and ours, per network.

    `panels` is a list of dicts with title, published, han and ours ({layer: %} or Series, with 'total'), lam and
    operating_point (whether that λ is ours*).
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.2), squeeze=False)
    for ax, p in zip(axes.ravel(), panels):
        ours_label = (
            f"our operating point (λ = {p['lam']:g})"
            if p["operating_point"]
            else f"our run (λ = {p['lam']:g}, no operating point)"
        )
        bars = {
            "Han et al. 2015 (published)": pd.Series(p["published"]),
            "Han et al. (rebuilt)": pd.Series(p["han"]),
            ours_label: pd.Series(p["ours"]),
        }
        layers = list(bars["Han et al. (rebuilt)"].index)
        xpos = np.arange(len(layers))
        for i, ((name, vals), col) in enumerate(
            zip(bars.items(), ["0.7", color("han_rebuilt"), color("thresholds")])
        ):
            v = vals.reindex(layers).to_numpy(dtype=float)
            ax.bar(xpos + (i - 1) * 0.27, v, 0.27, color=col, label=name)
            for xi, vi in zip(xpos + (i - 1) * 0.27, v):
                ax.text(xi, vi + 0.6, f"{vi:.0f}" if vi >= 10 else f"{vi:.1f}", ha="center", fontsize=6.5)
        ax.set_xticks(xpos, layers)
        ax.set_ylabel("% of weights left")
        ax.set_title(p["title"])
        ax.legend(fontsize=8)
    return fig


def regularizer_ablation(ablation, runs: dict, dense_err: float, budget):
    """Error against % kept per regularizer (left) and the hard % kept during the joint phase per run (right).

    `runs` maps (reg, λ) -> (model, history); `budget` is the ablation's (joint, fine-tune) epochs.
    """
    reg_colors = dict(zip(REGULARIZERS, plt.cm.Set1(np.arange(len(REGULARIZERS)))))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    for reg_, df in ablation.groupby("reg", sort=False):
        df = df.sort_values("weights_pct")
        axes[0].plot(df["weights_pct"], df["error_final_pct"], "o-", color=reg_colors[reg_], label=reg_)
        for _, r in df.iterrows():
            axes[0].annotate(f"λ={r['lam']:g}", (r["weights_pct"], r["error_final_pct"]), fontsize=7,
                             xytext=(3, 3), textcoords="offset points")  # fmt: skip
    for (reg_, lam_), (_, hist) in runs.items():
        joint = hist[hist["phase"] == "joint"]
        axes[1].plot(joint["step"], joint["weights_pct"], color=reg_colors[reg_], label=f"{reg_}, λ={lam_:g}",
                     ls="-" if lam_ == max(lm for rg, lm in runs if rg == reg_) else "--")  # fmt: skip
    axes[0].axhline(dense_err, color=color("dense"), ls="--", lw=1, label="dense")
    log_pct_axis(axes[0], ablation["weights_pct"], "x")
    axes[0].set_xlabel("% of weights remaining (log scale)")
    axes[0].set_ylabel("test error after fine-tuning (%)")
    axes[0].set_title(f"LeNet-300-100, {budget[0]:g} + {budget[1]:g} epochs")
    axes[0].legend(fontsize=8)
    joint_pcts = [h.loc[h["phase"] == "joint", "weights_pct"].to_numpy() for _, h in runs.values()]
    log_pct_axis(axes[1], np.concatenate(joint_pcts))
    axes[1].set_xlabel("joint step")
    axes[1].set_ylabel("hard % of weights remaining (log)")
    axes[1].set_title("sparsity during the joint phase")
    axes[1].legend(fontsize=7, ncol=2)
    return fig


def transfer_bars(transfer, probe_tasks):
    """Source-task and probe accuracy (95% intervals) per method, Δ to dense; the untrained control is probe-only.

    The y axis starts a little below the lowest interval (the differences are fractions of a point) and ends at
    100%, its last tick; each bar's Δ to dense is written at its foot, so nothing is drawn above 100%.
    """
    tasks = [
        "source: digits 0-4\n(test accuracy of the network)",
        *[f"new task: {t}\n(test accuracy of a linear probe)" for t in probe_tasks],
    ]
    methods = list(transfer.index)
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(4.2 + 2.8 * len(tasks), 4.8))
    xpos = np.arange(len(tasks))

    def values(m):
        source = np.nan if m == "random" else 100 - transfer.loc[m, "source_error_pct"]
        return np.array([source, *[transfer.loc[m, f"{t} probe acc %"] for t in probe_tasks]], dtype=float)

    lows = [transfer.loc[m, f"{t} 95% interval"][0] for m in methods for t in probe_tasks]
    lowest = float(np.nanmin([*lows, *np.concatenate([values(m) for m in methods])])) - 1.0
    step = 1.0 if lowest >= 92 else 5.0 if lowest >= 60 else 10.0
    bottom = max(0.0, float(np.floor(lowest / step) * step))
    dense = values("dense")
    for i, m in enumerate(methods):
        v = values(m)
        err = np.zeros((2, len(tasks)))
        for j, t in enumerate(probe_tasks, start=1):
            lo, hi = transfer.loc[m, f"{t} 95% interval"]
            err[:, j] = v[j] - lo, min(hi, 100.0) - v[j]
        pct = transfer.loc[m, "weights_pct"]
        name = "untrained control (probe only)" if m == "random" else label(m)
        x = xpos + (i - (len(methods) - 1) / 2) * width
        ax.bar(x, v, width, yerr=err, capsize=2, color=color(m), label=f"{name}: {pct:.1f}% of weights")
        for j, (xi, vi) in enumerate(zip(x, v)):
            if np.isfinite(vi):
                note = f"{vi:.2f}%" if m == "dense" else f"{vi - dense[j]:+.2f} pp"
                ax.text(xi, bottom + 0.04 * (100 - bottom), note, ha="center", va="bottom", fontsize=7.5,
                        color="white", rotation=90, fontweight="bold")  # fmt: skip
    ax.set_ylim(bottom, 100.0)
    ax.set_yticks(np.arange(bottom, 100.0 + step / 2, step))  # the last tick is 100%
    ax.set_xticks(xpos, tasks)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(f"test accuracy (%), axis from {bottom:g}%\n(error bars: the probe's 95% interval)")
    ax.set_title(
        "Transfer proxy: LeNet-5 trained on digits 0-4, fc1 features probed on new classes\n"
        "bars: accuracy; at each bar's foot: dense's accuracy, or the difference to dense",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return fig


def ablation_conclusion(ablation, runs: dict, dense_err: float, budget) -> list[str]:
    """The regularizer ablation in sentences: each regularizer's sparsest run, the sparsest overall, λ = 0's drift."""
    best = ablation.loc[ablation.groupby("reg", sort=False)["weights_pct"].idxmin()].set_index("reg")
    lines = [
        f"{reg_:>8}: sparsest at λ = {r['lam']:g}: {r['weights_pct']:5.1f}% of the weights kept, test error "
        f"{r['error_final_pct']:.2f}% ({r['error_final_pct'] - dense_err:+.2f} pp against dense)"
        for reg_, r in best.iterrows()
    ]
    pruners = best.drop(index="none", errors="ignore")
    if len(pruners):
        top = pruners["weights_pct"].idxmin()
        lines.append(
            f"The sparsest network comes from {top} (λ = {best.loc[top, 'lam']:g}): "
            f"{best.loc[top, 'weights_pct']:.1f}% of the weights after {budget[0]:g} + {budget[1]:g} epochs."
        )
    on_tau = pruners.drop(index="band_l1", errors="ignore")
    if "band_l1" in pruners.index and len(on_tau):
        more = pruners.loc["band_l1", "weights_pct"] > on_tau["weights_pct"].max()
        lines.append(
            f"band_l1, which never pushes a threshold, keeps {pruners.loc['band_l1', 'weights_pct']:.1f}%: "
            + ("more than any regularizer that raises the thresholds." if more else "within the range of those "
               "that raise the thresholds.")
        )  # fmt: skip
    if ("none", 0.0) in runs:
        joint = runs["none", 0.0][1].query("phase == 'joint'")["weights_pct"]
        first, last = joint.iloc[0], joint.iloc[-1]
        moved = "fell" if last > first + 1 else "rose" if last < first - 1 else "stayed near τ0"
        lines.append(
            f"Without a regularizer (λ = 0) the thresholds {moved}: the hard mask kept {first:.1f}% of the weights "
            f"at τ0 = 0.5 and {last:.1f}% at the end of the joint phase"
            + (", so nothing but the regularizer prunes." if moved != "rose" else ".")
        )
    return lines
