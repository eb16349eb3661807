"""The serial pruning loop: remove hidden neurons one at a time, without retraining, down to none.

Wolfe et al. 2017, Sec. "Proposed Pruning Algorithm": "single" is Algorithm I (score once, remove in ascending
order), "rerank" is Algorithm II (re-score after every removal). The smallest signed dE goes first (ties: lowest
(layer, index)); with `legacy_taylor` the Taylor criteria select as the authors' public Java code does (Alg. I
descending; Alg. II the largest score among those with |score| <= median |score|). `serial_prune` returns a
`PruneResult`: the removal order and the error / accuracy curves (length K + 1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd
import torch

from ...checks import check_choice
from ...train import progress
from .brute_force import bf_scores, bf_scores_naive
from .counts import masks_from_removed, neuron_ids, param_counts
from .net import SigmoidMLP
from .prepared import Prepared
from .taylor import taylor_scores

CRITERIA = ("bf", "taylor1", "taylor2")
SCHEDULES = ("single", "rerank")


@dataclass
class PruneResult:
    """Removal order (global neuron ids) and the error / accuracy curves after 0..K removals."""

    order: list[int]
    sse: list[float]  # E on the pruning set (the SSE for the paper's nets; summed cross-entropy for 'ce')
    acc: list[float]
    eval_curves: dict = field(default_factory=dict)  # name -> {"sse": [...], "acc": [...]}
    seconds: float = 0.0
    criterion: str = "bf"
    schedule: str = "rerank"
    legacy_taylor: bool = False
    sizes: list[int] = field(default_factory=list)

    @property
    def layers(self) -> list[int]:
        """Hidden layer (0 = first) of each removed neuron, in removal order."""
        ids = neuron_ids(self.sizes)
        return [ids[g][0] for g in self.order]

    def masks_after(self, n: int) -> list[torch.Tensor]:
        """Keep-masks after the first `n` removals (the method's one knob)."""
        return masks_from_removed(self.sizes, self.order[:n])

    def history(self) -> pd.DataFrame:
        """One row per step: the neuron removed, error and accuracy (pruning set and eval sets), counts left."""
        ids = neuron_ids(self.sizes)
        rows = []
        for step in range(len(self.sse)):
            g = self.order[step - 1] if step else None
            c = param_counts(self.sizes, self.masks_after(step))
            row = {
                "removed": step,
                "neuron": g,
                "layer": None if g is None else ids[g][0] + 1,
                "index": None if g is None else ids[g][1],
                "sse": self.sse[step],
                "acc": self.acc[step],
            }
            for name, cur in self.eval_curves.items():
                row[f"{name}_sse"], row[f"{name}_acc"] = cur["sse"][step], cur["acc"][step]
            row |= {
                k: c[k] for k in ("neurons_left", "weights_nonzero", "params_nonzero", "compression_weights")
            }
            rows.append(row)
        return pd.DataFrame(rows).astype({"neuron": "Int64", "layer": "Int64", "index": "Int64"})

    def to_dict(self) -> dict:
        """Plain data (for the cache)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict) -> PruneResult:
        """Inverse of `to_dict`."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


def select_legacy_rerank(s: torch.Tensor, alive: torch.Tensor) -> int:
    """The authors' Alg. II rule: the maximum score among alive neurons with |score| <= median(|score|)."""
    med = s[alive].abs().median()
    eligible = alive & (s.abs() <= med)
    return int(torch.where(eligible, s, torch.tensor(-float("inf"), dtype=s.dtype)).argmax())


@torch.no_grad()
def serial_prune(
    net: SigmoidMLP,
    X,
    T,
    criterion: str = "bf",
    schedule: str = "rerank",
    legacy_taylor: bool = False,
    eval_sets: dict | None = None,
    *,
    naive: bool = False,
    chunk: int | None = None,
    steps: int | None = None,
    until_drop: float | None = None,
    progress_bar: bool = True,
    desc: str | None = None,
) -> PruneResult:
    """Remove hidden neurons one at a time (no retraining), by `criterion` under `schedule`, down to none.

    `eval_sets` {name: (X, T)} get curves along the same order (e.g. the test set); `naive` scores brute force
    with one forward pass per candidate; `steps` stops early (curves then have steps + 1 points); `until_drop`
    stops after the first removal whose pruning-set accuracy is more than `until_drop` below the start (enough
    for `n_within(acc, until_drop)`).
    """
    check_choice("criterion", criterion, CRITERIA)
    check_choice("schedule", schedule, SCHEDULES)
    t0 = time.perf_counter()
    masks = net.full_masks()
    K = sum(net.hidden_sizes)
    steps = K if steps is None else min(steps, K)
    legacy = legacy_taylor and criterion != "bf"
    prep = Prepared(net, X, T)
    evals = {name: Prepared(net, Xe, Te) for name, (Xe, Te) in (eval_sets or {}).items()}
    curves = {name: {"sse": [], "acc": []} for name in evals}
    sse_curve, acc_curve, order = [], [], []

    def record():
        E, A = prep.evaluate(masks)
        sse_curve.append(E)
        acc_curve.append(A)
        for name, p in evals.items():
            E, A = p.evaluate(masks)
            curves[name]["sse"].append(E)
            curves[name]["acc"].append(A)

    def score() -> torch.Tensor:
        if criterion == "bf":
            parts = bf_scores_naive(net, X, T, masks) if naive else bf_scores(net, X, T, masks, chunk, prep)
        else:
            parts = taylor_scores(net, X, T, masks, 1 if criterion == "taylor1" else 2, legacy, prep)
        return torch.cat(parts).cpu()

    record()
    if schedule == "single":
        queue = torch.sort(score(), descending=legacy, stable=True).indices.tolist()
    bar = progress(
        total=steps, desc=desc or f"{criterion} {schedule}", **({} if progress_bar else {"disable": True})
    )
    for step in range(steps):
        if schedule == "rerank":
            s = score()
            alive = torch.cat(masks).cpu()
            if legacy:
                k = select_legacy_rerank(s, alive)
            else:
                k = int(torch.where(alive, s, torch.tensor(float("inf"), dtype=s.dtype)).argmin())
        else:
            k = queue[step]
        layer, idx = neuron_ids(net.sizes)[k]
        masks[layer][idx] = False
        order.append(k)
        record()
        bar.update(1)
        if until_drop is not None and acc_curve[-1] < acc_curve[0] - until_drop:
            break
    bar.close()
    return PruneResult(
        order=order,
        sse=sse_curve,
        acc=acc_curve,
        eval_curves=curves,
        seconds=time.perf_counter() - t0,
        criterion=criterion,
        schedule=schedule,
        legacy_taylor=legacy,
        sizes=list(net.sizes),
    )
