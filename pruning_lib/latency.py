"""What pruning buys in time (notebook 05): which points to time, timing them, and verdicts above the noise.

`chosen_points` picks, per method, its sparsest point and those nearest the target compressions. `time_network`
times all of a network's chosen points in the three representations (dense with zeros, sparse CSR, compact)
together with the dense model, in one set of shuffled rounds per batch size (`pl.inference.timed_rounds`), so
every speedup is a ratio measured in the same rounds. The noise floor of a (network, batch) is the largest
deviation from 1 of the dense-with-zeros controls, which compute exactly what the dense model computes; a
speedup counts only above it (`pl.inference.speed_verdict`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from . import inference

REPRESENTATIONS = {"dense with zeros": inference.plain_copy, "sparse CSR": inference.sparse,
                   "compact": inference.compact}  # fmt: skip


def chosen_points(points: pd.DataFrame, targets=(8, 64)) -> pd.DataFrame:
    """Per method: its sparsest point and the points nearest each target compression (log scale), deduplicated."""
    rows = []
    for _, sub in points.groupby("method", sort=False):
        sparsest = sub["compression_weights"].idxmax()
        log_c = np.log2(sub["compression_weights"])
        picks = {sparsest} | {(log_c - np.log2(t)).abs().idxmin() for t in targets}
        rows.append(sub.loc[sorted(picks)].assign(sparsest=lambda d, s=sparsest: d.index == s))
    return pd.concat(rows) if rows else points.iloc[:0]


def time_network(
    dense: torch.nn.Module, models: dict, batches=(1, 256), *, rounds: int = 7, warmup: int = 10,
    block_s: float = 0.01, threads: int | None = None, seed: int = 0,
) -> pd.DataFrame:  # fmt: skip
    """Rows (key, representation, batch, median_s, spread_s, dense_median_s, speedup, quartiles, stored, macs).

    `models` maps a key (e.g. (method, value)) to a pruned model; all of them and `dense` are timed together.
    """
    reps = {(key, rep): make(model) for key, model in models.items() for rep, make in REPRESENTATIONS.items()}
    named = {"dense": dense.eval(), **{f"{k}|{r}": m for (k, r), m in reps.items()}}
    keys = {f"{k}|{r}": (k, r) for k, r in reps}
    stored = {kr: inference.param_count(m) for kr, m in reps.items()}
    macs = {kr: inference.compact_macs(m) for kr, m in reps.items() if kr[1] == "compact"}
    rows = []
    for b in batches:
        t = inference.timed_rounds(named, b, rounds=rounds, warmup=warmup, block_s=block_s, threads=threads,
                                   seed=seed + b)  # fmt: skip
        dense_s = t["models"]["dense"]["median_s"]
        for name, (key, rep) in keys.items():
            m = t["models"][name]
            rows.append({"key": key, "representation": rep, "batch": b, "median_s": m["median_s"],
                         "spread_s": m["spread_s"], "dense_median_s": dense_s, "speedup": m["speedup"],
                         "speedup_q25": m["speedup_q25"], "speedup_q75": m["speedup_q75"],
                         "rounds": t["rounds"], "warmup": t["warmup"], "threads": t["threads"],
                         "stored": stored[key, rep], "macs": macs.get((key, rep))})  # fmt: skip
    return pd.DataFrame(rows)


def with_verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """Add each (network, batch)'s noise floor (from its dense-with-zeros controls) and every row's verdict."""
    group = ["network", "batch"] if "network" in table else ["batch"]
    controls = table[table["representation"] == "dense with zeros"]
    floor = controls.groupby(group)["speedup"].agg(inference.noise_floor).rename("noise_floor")
    out = table.join(floor, on=group)
    out["verdict"] = [inference.speed_verdict(s, f) for s, f in zip(out["speedup"], out["noise_floor"])]
    return out
