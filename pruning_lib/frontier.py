"""Accuracy-vs-sparsity frontiers and the ranking of methods at a band of weights (notebook 05).

A method's points (one seed) form a frontier: the best validation accuracy reachable at a compression of at
least c. The frontier is read at a band's compression (100 / band %) by linear interpolation in log2
compression between the two frontier points around it, for validation and test accuracy alike (the points are
chosen on validation; their test accuracy is only carried along). A band beyond a method's sparsest point is
"not reached". Across seeds the band's test accuracy gets a 95% interval (`pl.stats.accuracy_interval`), and a
method beats another only when the intervals separate; otherwise they tie.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import stats


def pareto(points: pd.DataFrame) -> pd.DataFrame:
    """The validation frontier of one method and seed: points no sparser point beats on val_acc, densest first."""
    df = points.sort_values("compression_weights", ascending=False)
    keep, best = [], -math.inf
    for i, row in df.iterrows():
        if row["val_acc"] > best:
            keep.append(i)
            best = row["val_acc"]
    return df.loc[keep].sort_values("compression_weights").reset_index(drop=True)


def read_at(frontier: pd.DataFrame, band_pct: float) -> dict:
    """val/test accuracy and epochs of a frontier at `band_pct` % of the weights (log-compression interpolation)."""
    target = 100.0 / band_pct
    c = frontier["compression_weights"].to_numpy(dtype=float)
    sparsest = float(frontier["weights_pct"].min())
    if len(c) == 0 or c.max() < target * (1 - 1e-9):
        return {"reached": False, "sparsest_pct": sparsest}
    i = int(np.searchsorted(c, target))  # c[i-1] < target <= c[i]
    if i == 0 or c[i] == target:
        row = frontier.iloc[i]
        w, lo, hi = 1.0, row, row
    else:
        lo, hi = frontier.iloc[i - 1], frontier.iloc[i]
        w = (math.log2(target) - math.log2(c[i - 1])) / (math.log2(c[i]) - math.log2(c[i - 1]))
    mix = {k: (1 - w) * lo[k] + w * hi[k] for k in ("val_acc", "test_acc")}
    return {
        "reached": True,
        "sparsest_pct": sparsest,
        **mix,
        "epochs": float(max(lo["epochs"], hi["epochs"])),
    }


def band_table(points: pd.DataFrame, bands, n_test: int, by=("network", "regime", "method")) -> pd.DataFrame:
    """One row per (network, regime, method, band): seeds, reached, mean val/test accuracy, 95% test interval."""
    rows = []
    for key, df in points.groupby(list(by)):
        for band in bands:
            reads = [read_at(pareto(s), band) for _, s in df.groupby("seed")]
            row = dict(zip(by, key), band_pct=band, family=df["family"].iloc[0], seeds=len(reads))
            row["sparsest_pct"] = float(np.mean([r["sparsest_pct"] for r in reads]))
            row["reached"] = all(r["reached"] for r in reads)
            if row["reached"]:
                row["val_acc"] = float(np.mean([r["val_acc"] for r in reads]))
                row["test_acc"] = float(np.mean([r["test_acc"] for r in reads]))
                row["test_interval"] = list(stats.accuracy_interval([r["test_acc"] for r in reads], n_test))
                row["epochs"] = float(max(r["epochs"] for r in reads))
            rows.append(row)
    return pd.DataFrame(rows)


def rank(table: pd.DataFrame, families=None) -> pd.DataFrame:
    """Per (network, regime, band): the methods that reach it, best validation first, with ties to the winner.

    `verdict` is the winner's against each other method ('better' when the test intervals separate, else 'tie');
    `families` restricts the ranking to 'structured' or 'unstructured' methods.
    """
    df = table[table["reached"]]
    if families is not None:
        df = df[df["family"].isin([families] if isinstance(families, str) else families)]
    out = []
    for _, g in df.groupby(["network", "regime", "band_pct"], sort=False):
        g = g.sort_values("val_acc", ascending=False).reset_index(drop=True)
        winner = g.iloc[0]
        for place, row in g.iterrows():
            verdict = "—" if place == 0 else stats.compare(winner["test_interval"], row["test_interval"])
            out.append(
                {**row.to_dict(), "place": place + 1, "winner": winner["method"], "winner_vs": verdict}
            )
    return pd.DataFrame(out, columns=[*table.columns, "place", "winner", "winner_vs"])


WINNER_COLUMNS = [
    "network", "regime", "band_pct", "method", "family", "test_acc", "test_interval", "val_acc", "epochs", "seeds",
    "ties_with", "runner_up", "verdict",
]  # fmt: skip


def winners(ranked: pd.DataFrame) -> pd.DataFrame:
    """The winner of each band, the methods it ties with, and its verdict against the runner-up."""
    rows = []
    for key, g in ranked.groupby(["network", "regime", "band_pct"], sort=False):
        g = g.sort_values("place")
        w = g.iloc[0]
        ties = g[(g["place"] > 1) & (g["winner_vs"] == "tie")]["method"].tolist()
        runner = g.iloc[1] if len(g) > 1 else None
        rows.append({
            "network": key[0], "regime": key[1], "band_pct": key[2], "method": w["method"], "family": w["family"],
            "test_acc": w["test_acc"], "test_interval": w["test_interval"], "val_acc": w["val_acc"],
            "epochs": w["epochs"], "seeds": w["seeds"], "ties_with": ties,
            "runner_up": None if runner is None else runner["method"],
            "verdict": None if runner is None else runner["winner_vs"],
        })  # fmt: skip
    return pd.DataFrame(rows, columns=WINNER_COLUMNS)
