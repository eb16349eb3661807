"""The verdicts of notebook 05 (head to head) as headline rows (`report.headline`): the winner at each budget
band against its runner-up, the shared Han run (rebuilt) against Han et al.'s published error, the largest
measured CPU speedup of each network above its noise floor, and the latency goals.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from . import stats
from .methods import han
from .plotting import label
from .report import headline


def winner_rows(winners: pd.DataFrame, nets: Mapping[str, str]) -> list[dict]:
    """One row per band and regime: the winner's test accuracy and interval, 'better' or 'tie' against the runner-up."""
    rows = []
    for r in winners.to_dict("records"):
        band_id = f"{r['band_pct']:g}".replace(".", "p")
        alone = not isinstance(r["runner_up"], str)  # no other method reaches the band
        runner = "no other method reaches it" if alone else label(r["runner_up"])
        rows.append(headline(
            f"{nets[r['network']]}, {r['regime']} budget: best at ≤ {r['band_pct']:g}% of the weights",
            f"{label(r['method'])} ({r['epochs']:g} epochs): {100 * r['test_acc']:.2f}",
            id=f"{r['network']}_{r['regime']}_best_le_{band_id}pct", unit="%",
            interval=r["test_interval"], verdict="better" if alone else r["verdict"], versus=runner,
            source=f"this notebook: validation frontier, {r['seeds']} seed(s)"))  # fmt: skip
    return rows


def rebuilt_rows(
    points: pd.DataFrame, nets: Mapping[str, str], n_test: int, judged: bool = True
) -> list[dict]:
    """Per network: Han (rebuilt)'s test error over the seeds against Han's published error and the suite's target."""
    rows = []
    for net in nets:
        pts = points[(points["network"] == net) & (points["method"] == "han_rebuilt")]
        ref = han.published(net)
        err = 100 * (1 - pts["test_acc"].mean())
        lo, hi = stats.accuracy_interval(pts["test_acc"].tolist(), n_test)
        interval = [100 - hi, 100 - lo]
        target = han.TARGET_ERROR_PCT[net]
        rows.append(headline(
            f"{nets[net]}: Han et al. (rebuilt) test error at {pts['weights_pct'].mean():.2f}% of the weights", err,
            id=f"{net}_han_rebuilt_test_error", paper=ref["error_pct"], target=f"≤ {target}%", unit="%",
            met=(err <= target) if judged else None, interval=interval,
            verdict=stats.against_value(interval, ref["error_pct"], higher_is_better=False),
            versus=f"Han et al. 2015's {ref['error_pct']}%", source=f"Han et al. 2015, Table 1; {len(pts)} seed(s)"))  # fmt: skip
    return rows


def speedup_rows(
    latency: pd.DataFrame, nets: Mapping[str, str], dense_acc: Mapping[str, float]
) -> list[dict]:
    """Per network: the noise floor at batch 256 (goal ≤ 10%) and the largest speedup that clears it among the
    models within 1 pp of the dense model's test accuracy (a constant network is fast and useless; volatile)."""
    rows = []
    for net in nets:
        lat = latency[(latency["network"] == net) & (latency["batch"] == 256)]
        if lat.empty:
            continue
        floor = float(lat["noise_floor"].max())
        rows.append(headline(f"{nets[net]}: latency noise floor at batch 256 (dense-with-zeros controls)",
                             100 * floor, unit="%", target="≤ 10%", met=floor <= 0.10, id=f"{net}_noise_floor_256",
                             volatile=True, source="largest deviation from 1.0x of the controls' median speedups"))  # fmt: skip
        real = lat[(lat["verdict"] == "faster") & (lat["representation"] != "dense with zeros")
                   & (lat["test_acc"] >= dense_acc[net] - 0.01)]  # fmt: skip
        if len(real):
            top = real.loc[real["speedup"].idxmax()]
            rows.append(headline(
                f"{nets[net]}: largest measured CPU speedup within 1 pp of dense accuracy, batch 256",
                float(top["speedup"]), unit="×", id=f"{net}_largest_cpu_speedup", volatile=True,
                source=f"{top['method']} at {top['compression_weights']:.0f}× ({top['representation']}, "
                       f"{100 * top['test_acc']:.2f}% test accuracy); noise floor ±{100 * floor:.0f}%"))  # fmt: skip
    return rows


def latency_goal_rows(
    latency: pd.DataFrame, nets: Mapping[str, str], dense_macs: Mapping[str, int]
) -> list[dict]:
    """The compaction goals at batch 256: the sparsest Gumbel model (≤ 0.15%) ≥ 20× faster; each structured
    method's sparsest compact model within 2× of its FLOP ratio (dense / compact multiply-adds)."""
    rows = []
    compact = latency[
        (latency["batch"] == 256) & (latency["representation"] == "compact") & latency["sparsest"]
    ]
    for net in nets:
        lat = compact[compact["network"] == net]
        g = lat[(lat["method"] == "gumbel") & (lat["weights_pct"] <= 0.15)]
        if len(g):
            r = g.iloc[0]
            rows.append(headline(f"{nets[net]}: Gumbel gates at {r['weights_pct']:.2f}% of the weights, compact, "
                                 "measured speedup at batch 256", float(r["speedup"]), unit="×", target="≥ 20×",
                                 met=bool(r["speedup"] >= 20), id=f"{net}_gumbel_compact_speedup_256", volatile=True,
                                 source="one run, shuffled rounds against dense"))  # fmt: skip
        for _, r in lat[lat["family"] == "structured"].iterrows():
            ratio = dense_macs[net] / max(r["macs"], 1)
            rows.append(headline(f"{nets[net]}: {label(r['method'])}, compact: measured speedup over its FLOP "
                                 f"ratio ({ratio:.1f}×)", float(r["speedup"] / ratio), target="≥ 0.5",
                                 met=bool(r["speedup"] >= ratio / 2), id=f"{net}_{r['method']}_speedup_vs_flops",
                                 volatile=True, source="batch 256; FLOP ratio = dense / compact multiply-adds"))  # fmt: skip
    return rows
