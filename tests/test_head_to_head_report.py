"""Notebook 05's helpers: the methods run once, measured rows per regime, the points to time and their latency
rows, and the headline rows of its verdicts."""

import pandas as pd
import pytest
import torch

from pruning_lib import compare, masks, stats, verdicts
from pruning_lib.data import Splits
from pruning_lib.methods import han
from pruning_lib.methods.base import Point
from pruning_lib.models import LeNet300100

NETS = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}


def test_same_in_both_lists_the_methods_planned_alike():
    regimes = {"short": {"a": {"values": [2]}, "b": {"values": [2], "budget": 1}, "c": {"values": [4]}},
               "own": {"a": {"values": [2]}, "b": {"values": [2], "budget": 5}, "c": {"values": [4]},
                       "d": {"values": [8]}}}  # fmt: skip
    assert compare.same_in_both(regimes) == ["a", "c"]


def test_measured_rows_check_masks_measure_and_double_the_points_run_once():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    splits = Splits(*[(torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g))
                      for n in (64, 32, 32)])  # fmt: skip
    dense = LeNet300100()
    pruned = masks.install_masks(masks.clone(dense))
    masks.and_mask(pruned.fc1, "weight", torch.rand(300, 784) < 0.5)
    pts = [("dense", Point("dense", "-", 1.0, dense, 0.0, 1.0, True)),
           ("short", Point("once", "c", 2.0, pruned, 0.0, 0.1, False)),
           ("own", Point("trained", "c", 2.0, pruned, 1.0, 0.2, False))]  # fmt: skip
    family = {"dense": "dense", "once": "unstructured", "trained": "structured"}
    out = compare.measured_rows(pts, "lenet300", 3, splits, family, once=["once"])
    rows = [r for r, _ in out]
    assert [(r["method"], r["regime"]) for r in rows] == [("dense", "dense"), ("once", "short"), ("once", "own"),
                                                          ("trained", "own")]  # fmt: skip
    assert [m for _, m in out] == [dense, pruned, pruned, pruned]
    assert rows[0]["weights_unmasked"] == 784 * 300 + 300 * 100 + 100 * 10
    assert rows[1]["weights_unmasked"] == int(masks.get_mask(pruned.fc1).sum()) + 300 * 100 + 100 * 10
    measured = compare.measure(pts[1][1], "lenet300", 3, splits)
    keys = (
        "compression_weights",
        "weights_pct",
        "speedup_theoretical",
        "val_acc",
        "test_acc",
        "knob",
        "value",
    )
    assert all(rows[1][k] == measured[k] for k in keys) and rows[2] == {**rows[1], "regime": "own"}
    assert [r["family"] for r in rows] == ["dense", "unstructured", "unstructured", "structured"]
    assert rows[3]["seed"] == 3 and rows[3]["epochs"] == 1.0
    with torch.no_grad():  # a pruned weight that is nonzero: the mask was lost
        pruned.fc1.weight[~masks.get_mask(pruned.fc1)] = 1.0
    with pytest.raises(AssertionError):
        compare.measured_rows(pts[1:2], "lenet300", 3, splits, family)


def test_winner_rows_name_the_winner_and_its_verdict():
    winners = pd.DataFrame([
        {"network": "lenet300", "regime": "short", "band_pct": 0.15, "method": "han", "test_acc": 0.9812,
         "test_interval": [97.9, 98.3], "epochs": 2.0, "seeds": 3, "runner_up": "random", "verdict": "tie"},
        {"network": "lenet5", "regime": "own", "band_pct": 10, "method": "gradual", "test_acc": 0.99,
         "test_interval": [98.8, 99.2], "epochs": 1.0, "seeds": 2, "runner_up": None, "verdict": None},
    ])  # fmt: skip
    a, b = verdicts.winner_rows(winners, NETS)
    assert (
        a["id"] == "lenet300_short_best_le_0p15pct"
        and a["verdict"] == "tie"
        and a["interval"] == [97.9, 98.3]
    )
    assert a["quantity"] == "LeNet-300-100, short budget: best at ≤ 0.15% of the weights"
    assert a["measured"].endswith("(2 epochs): 98.12") and a["source"].endswith("3 seed(s)")
    assert b["id"] == "lenet5_own_best_le_10pct" and b["verdict"] == "better"
    assert b["versus"] == "no other method reaches it"


def test_rebuilt_rows_judge_han_rebuilt_against_the_published_error():
    points = pd.DataFrame({"network": ["lenet300"] * 3 + ["lenet5"], "method": ["han_rebuilt"] * 2 + ["han"] * 2,
                           "test_acc": [0.98, 0.982, 0.5, 0.99], "weights_pct": [8.0, 8.2, 50.0, 8.0]})  # fmt: skip
    (row,) = verdicts.rebuilt_rows(points, {"lenet300": "LeNet-300-100"}, 10_000)
    ref, target = han.published("lenet300"), han.TARGET_ERROR_PCT["lenet300"]
    lo, hi = stats.accuracy_interval([0.98, 0.982], 10_000)
    assert row["measured"] == pytest.approx(1.9) and row["interval"] == pytest.approx([100 - hi, 100 - lo])
    assert row["id"] == "lenet300_han_rebuilt_test_error" and row["paper"] == ref["error_pct"]
    assert row["met"] == (1.9 <= target) and row["target"] == f"≤ {target}%" and "8.10%" in row["quantity"]
    assert row["verdict"] == stats.against_value(row["interval"], ref["error_pct"], higher_is_better=False)
    assert (
        verdicts.rebuilt_rows(points, {"lenet300": "LeNet-300-100"}, 10_000, judged=False)[0]["met"] is None
    )


def test_speedup_rows_report_the_floor_and_the_fastest_model_above_it():
    latency = pd.DataFrame({"network": ["lenet300"] * 5, "method": ["han", "han", "random", "han", "gumbel"],
                            "batch": [256, 256, 256, 1, 256], "speedup": [1.04, 1.5, 2.5, 7.0, 3.0],
                            "compression_weights": [8.0, 8.0, 64.0, 8.0, 500.0], "noise_floor": [0.04] * 5,
                            "verdict": ["noise", "faster", "faster", "faster", "noise"],
                            "representation": ["dense with zeros", "sparse CSR", "compact", "compact", "compact"],
                            "test_acc": [0.98, 0.98, 0.975, 0.98, 0.98]})  # fmt: skip
    floor, top = verdicts.speedup_rows(
        latency, NETS, {"lenet300": 0.98}
    )  # LeNet-5 has no timed point: no rows
    assert (
        floor["id"] == "lenet300_noise_floor_256" and floor["measured"] == pytest.approx(4.0) and floor["met"]
    )
    assert top["measured"] == 2.5 and top["volatile"] and top["id"] == "lenet300_largest_cpu_speedup"
    assert top["source"] == "random at 64× (compact, 97.50% test accuracy); noise floor ±4%"
    assert (
        len(verdicts.speedup_rows(latency, NETS, {"lenet300": 0.995})) == 1
    )  # no model within 1 pp: floor only


def test_latency_goals_can_fail():
    latency = pd.DataFrame({"network": ["lenet300"] * 2, "method": ["gumbel", "neurons"], "batch": [256, 256],
                            "representation": ["compact"] * 2, "sparsest": [True, True], "weights_pct": [0.1, 20.0],
                            "speedup": [6.0, 3.0], "family": ["unstructured", "structured"], "macs": [300, 50_000]})  # fmt: skip
    g, n = verdicts.latency_goal_rows(latency, NETS, {"lenet300": 266_200})
    assert g["id"] == "lenet300_gumbel_compact_speedup_256" and g["met"] is False and g["measured"] == 6.0
    assert n["met"] is True and n["measured"] == pytest.approx(3.0 / (266_200 / 50_000))  # 3x of a 5.3x ratio
