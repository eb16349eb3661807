"""Notebook 02's paper-versus-reproduction rows (targets and headline rows) and the parts of its results.json.

A target is held only where the profile has targets (`met` is None otherwise); a missed target is reported
as missed. A row that compares two measurements carries its 95% interval and verdict against the named baseline.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from ... import files, reference, stats
from ...report import headline
from .verdicts import Scoreboard, within

EPS = 1e-9  # 160 errors in 10,000 images is 1.6% exactly, even where floating point says 1.6000000000000014
SOURCE_OURS = "Manessi et al. 2018 (C3), the target we set"
SOURCE_HAN = "Han et al. 2015, Tables 1-3"
TABLE_NUMBER = {"lenet300": 2, "lenet5": 3}  # Han et al. 2015's per-layer table of each network


def met_if(ok, has_targets: bool) -> bool | None:
    """A verdict only where this profile has targets."""
    return bool(ok) if has_targets else None


def net_targets(net: str, o: dict, a: dict, han_summary: dict, *, target, han_target_error: float, reached: bool,
                epoch_ratio: float, has_targets: bool) -> dict:  # fmt: skip
    """The targets of one network: our operating point's weights and error, the reductions, Han's error, training."""
    met = partial(met_if, has_targets=has_targets)
    pct_t, err_t = target if has_targets else (None, None)
    has, hs = o["lam"] is not None, han_summary
    return {
        f"{net}_weights_pct": {"value": o.get("weights_pct"), "threshold": pct_t, "met": met(has_targets and has and o["weights_pct"] <= pct_t + EPS)},
        f"{net}_error_pct": {"value": a["error_final_pct"] if has else None, "threshold": err_t,
                             "met": met(has_targets and has and a["error_final_pct"] <= err_t + EPS)},
        f"{net}_reduction_vs_han_rebuilt_pct": {"value": a["reduction_vs_han_rebuilt_pct"], "threshold": 0.0,
                                                "met": met(has and a["matched_error_rebuilt"] and a["reduction_vs_han_rebuilt_pct"] > 0)},
        f"{net}_reduction_vs_han_published_pct": {"value": a["reduction_vs_han_published_pct"], "threshold": 0.0,
                                                  "met": met(has and a["matched_error_published"] and a["reduction_vs_han_published_pct"] > 0)},
        f"{net}_han_rebuilt_error_pct": {"value": hs["test_error_pct"], "threshold": han_target_error,
                                         "met": met(hs["test_error_pct"] <= han_target_error + EPS)},
        f"{net}_shorter_training": {"value": epoch_ratio, "threshold": 1.0, "met": met(reached and epoch_ratio < 1)},
    }  # fmt: skip


def net_report(net: str, tag: str, *, o: dict, a: dict, han_summary: dict, han_mean: pd.Series, cost: pd.DataFrame,
               flop: pd.DataFrame, budget: float, dense_error: float, caffe_error, gradual: pd.DataFrame,
               board: Scoreboard, han_name: str, han_target_error: float, target, claim: tuple,
               has_targets: bool) -> tuple[dict, list]:  # fmt: skip
    """One network's targets and headline rows (the gradual row only where its 12.5× run exists)."""
    claim_lo, claim_hi = claim
    claim_txt, src_m, src_h, hs = f"{claim_lo}–{claim_hi}", SOURCE_OURS, SOURCE_HAN, han_summary
    pct_t, err_t = target if has_targets else (None, None)
    has = o["lam"] is not None
    d_han = a["vs_han_rebuilt"]
    reached = bool(cost.iloc[1]["reaches Han's sparsity and error"])
    epoch_ratio = budget / float(han_mean["epochs"])
    sec_ratio = float(cost.iloc[1]["seconds"]) / float(han_mean["seconds"])
    g8 = gradual[(gradual["network"] == net) & (gradual["compression"] == 12.5)]
    targets = net_targets(net, o, a, hs, target=target, han_target_error=han_target_error, reached=reached,
                          epoch_ratio=epoch_ratio, has_targets=has_targets)  # fmt: skip
    lam_txt = f"λ = {a['lam']:g}" + ("" if has else ", no operating point")
    dense_interval = board.interval("dense", net)
    rows = [
        headline(f"{tag} dense test error", float(dense_error), id=f"{net}_dense_error", paper=caffe_error,
                 unit="%", interval=dense_interval,
                 verdict=stats.against_value(dense_interval, caffe_error, higher_is_better=False),
                 versus="Han's Caffe reference", source=src_h + " (Caffe reference)"),
        headline(f"{tag} {han_name}: test error at {hs['counts']['weights_pct']:.1f}% of the weights",
                 hs["test_error_pct"], id=f"{net}_han_rebuilt_error", paper=hs["published"]["error_pct"],
                 target=f"≤ {han_target_error}%", unit="%", met=targets[f"{net}_han_rebuilt_error_pct"]["met"],
                 interval=hs["test_error_interval"], verdict=hs["vs_published_error"],
                 versus="Han et al. 2015 published", source=src_h),
        headline(f"{tag} our operating point: weights left", o.get("weights_pct"), id=f"{net}_ours_weights_pct",
                 target=f"≤ {pct_t}%" if has_targets else None, unit="%",
                 met=targets[f"{net}_weights_pct"]["met"], source=src_m),
        headline(f"{tag} our operating point: test error", a["error_final_pct"] if has else None, id=f"{net}_ours_error",
                 target=f"≤ {err_t}%" if has_targets else None, unit="%", interval=a["error_interval"] if has else None,
                 met=targets[f"{net}_error_pct"]["met"], source=src_m),
        headline(f"{tag} our run ({lam_txt}) − {han_name}: test error", d_han["diff_pp"],
                 id=f"{net}_ours_minus_han_error", unit="pp", interval=d_han["interval"],
                 verdict=d_han["verdict"], versus=han_name, source=src_m + ", paired over the test images"),
        headline(f"{tag} our operating point keeps fewer weights than {han_name}, at matched error",
                 a["reduction_vs_han_rebuilt_pct"] if has else None, id=f"{net}_reduction_vs_han_rebuilt",
                 paper=claim_txt, target="> 0% and error tie or better" if has_targets else None, unit="%",
                 met=targets[f"{net}_reduction_vs_han_rebuilt_pct"]["met"], source=src_m),
        headline(f"{tag} our operating point keeps fewer weights than Han et al. published, at matched error",
                 a["reduction_vs_han_published_pct"] if has else None, id=f"{net}_reduction_vs_han_published",
                 paper=claim_txt, target="> 0% and error tie or better" if has_targets else None, unit="%",
                 met=targets[f"{net}_reduction_vs_han_published_pct"]["met"], source=src_m),
        headline(f"{tag} reduction vs {han_name} inside the paper's range",
                 a["reduction_vs_han_rebuilt_pct"] if has else None, id=f"{net}_reduction_in_paper_range",
                 paper=claim_txt, target=f"{claim_lo}–{claim_hi}%" if has_targets else None, unit="%",
                 met=met_if(has and a["matched_error_rebuilt"] and claim_lo <= a["reduction_vs_han_rebuilt_pct"] <= claim_hi,
                            has_targets),
                 source=src_m + "; above the range is explained in Section 5, not a success"),
        headline(f"{tag} training epochs, our run / {han_name} (our run reaching Han's sparsity and error)",
                 epoch_ratio, id=f"{net}_training_epochs_ratio", target="< 1, at Han's sparsity and error" if has_targets else None,
                 met=targets[f"{net}_shorter_training"]["met"], source="Manessi et al. 2018 (C1)"),
        headline(f"{tag} training seconds, our run / {han_name}", sec_ratio, id=f"{net}_training_seconds_ratio",
                 source="Manessi et al. 2018 (C1); wall-clock when computed", volatile=True),
        headline(f"{tag} our run: FLOP % activation-aware (Han's definition)", float(flop.loc["total", "our run: FLOP % (act.-aware)"]),
                 id=f"{net}_ours_flops_act_pct", paper=float(flop.loc["total", "Han 2015: FLOP % (act.-aware)"]),
                 unit="%", source=src_h + " (FLOP %, Tables 2-3)"),
    ]  # fmt: skip
    if len(g8):
        d_g = board.versus(f"ours_{a['lam']:g}", "gradual_12.5", net)
        rows.append(headline(
            f"{tag} our run ({lam_txt}, {a['weights_pct']:.1f}%) − gradual 12.5× ({g8['weights_pct'].mean():.1f}%): test error, same budget",
            d_g["diff_pp"], id=f"{net}_ours_minus_gradual_error", unit="pp", interval=d_g["interval"],
            verdict=d_g["verdict"], versus="gradual magnitude (Zhu & Gupta), same epochs", source="the same training budget as our run"))  # fmt: skip
    return targets, rows


def transfer_report(transfer_delta: dict, fashion: bool, has_targets: bool) -> tuple[dict, list]:
    """The transfer proxy's targets and headline rows: pruned probes within ±1 pp of dense, the control ≥ 3 pp below."""
    targets, rows = {}, []
    for m, name in [("han", "Han"), ("thresholds", "our run")]:
        d = transfer_delta[m, "digits 5-9"]
        targets[f"transfer_{m}_delta_pp"] = {
            "value": d["diff_pp"],
            "threshold": 1.0,
            "met": met_if(within(d["interval"], -1.0, 1.0), has_targets),
        }
        rows.append(headline(f"transfer proxy: {name} probe acc. − dense (digits 5-9)", d["diff_pp"],
                             id=f"transfer_{'ours' if m == 'thresholds' else m}_delta", target="|Δ| ≤ 1 pp, whole interval" if has_targets else None,
                             unit="pp", met=targets[f"transfer_{m}_delta_pp"]["met"], interval=d["interval"],
                             verdict=d["verdict"], versus="dense", source="Manessi et al. 2018 (C4), our transfer proxy"))  # fmt: skip
    d = transfer_delta["random", "digits 5-9"]
    targets["transfer_random_control_delta_pp"] = {
        "value": d["diff_pp"],
        "threshold": -3.0,
        "met": met_if(d["interval"][1] <= -3.0, has_targets),
    }
    rows.append(headline("transfer control: untrained-net probe acc. − dense (digits 5-9)", d["diff_pp"],
                         id="transfer_random_control_delta", target="≤ −3 pp, whole interval" if has_targets else None,
                         unit="pp", met=targets["transfer_random_control_delta_pp"]["met"], interval=d["interval"],
                         verdict=d["verdict"], versus="dense", source="the control that lets C4 fail"))  # fmt: skip
    if fashion:
        for m in ("han", "thresholds"):
            targets[f"transfer_fashion_{m}_delta_pp"] = {
                "value": transfer_delta[m, "Fashion-MNIST"]["diff_pp"],
                "threshold": 1.0,
                "met": None,
            }
    return targets, rows


def json_records(df: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts."""
    return files.jsonable(df.to_dict("records"))


def ours_result(hist: pd.DataFrame, *, lam: float, seed: int, epochs: float) -> dict:
    """The main run (λ = lam, first seed) of a network: summary, per-layer table and joint history."""
    summ = {k: v for k, v in hist.attrs["summary"].items() if k != "config"}
    return {"lam": float(lam), "seed": seed, "epochs": epochs, **summ,
            "history": hist[hist["phase"] == "joint"].dropna(axis=1, how="all").to_dict("list")}  # fmt: skip


def han_result(han_run: tuple, han_mean: pd.Series, net: str, caffe_error) -> dict:
    """The shared Han et al. (rebuilt) run (first seed): its summary, history and Han's published numbers."""
    _, hist, summ = han_run
    return {**{k: v for k, v in summ.items() if k != "per_layer"}, "per_layer": summ["per_layer"],
            "history": hist.to_dict("list"), "mean_over_seeds": han_mean.to_dict(),
            "published_table": reference.han_table(TABLE_NUMBER[net]).to_dict("records"), "error_ref_pct": caffe_error}  # fmt: skip


def reduction_result(o: dict, a: dict) -> dict:
    """The reductions against Han (rebuilt and published), whether each is at matched error, and if λ qualified."""
    return {"rebuilt": a["reduction_vs_han_rebuilt_pct"], "published": a["reduction_vs_han_published_pct"],
            "matched_error_rebuilt": a["matched_error_rebuilt"], "matched_error_published": a["matched_error_published"],
            "operating_point": o["lam"] is not None}  # fmt: skip


def transfer_result(
    transfer: pd.DataFrame, src, probe_data: dict, fashion: bool, dense_cache_hit: bool
) -> dict:
    """The transfer proxy's rows, its data sizes, whether Fashion-MNIST ran, and the dense model's cache hit."""
    return {"rows": json_records(transfer.reset_index()), "source_train": len(src.train[1]),
            "source_test": len(src.test[1]), "probe": {k: [len(a[1]), len(b[1])] for k, (a, b) in probe_data.items()},
            "fashion": fashion, "dense_cache_hit": dense_cache_hit}  # fmt: skip
