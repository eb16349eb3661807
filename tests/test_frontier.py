"""Frontiers read in log-compression, bands not reached, ranking with ties (hand computations)."""

import math

import pandas as pd
import pytest

from pruning_lib import frontier, stats


def _points(method, seed, rows, family="unstructured", regime="own"):
    return [
        {"network": "n", "regime": regime, "method": method, "family": family, "seed": seed,
         "compression_weights": c, "weights_pct": 100 / c, "val_acc": v, "test_acc": t, "epochs": e}
        for c, v, t, e in rows
    ]  # fmt: skip


def test_pareto_drops_points_a_sparser_point_beats():
    df = pd.DataFrame(_points("a", 0, [(2, 0.90, 0.91, 1), (4, 0.95, 0.94, 2), (8, 0.93, 0.92, 3)]))
    f = frontier.pareto(df)
    assert f["compression_weights"].tolist() == [4, 8]  # 2x is dominated by 4x (sparser and better on val)


def test_read_at_interpolates_in_log_compression():
    df = pd.DataFrame(_points("a", 0, [(4, 0.96, 0.95, 1), (16, 0.90, 0.89, 2)]))
    r = frontier.read_at(frontier.pareto(df), 100 / 8)  # 8x is halfway between 4x and 16x in log2
    assert r["reached"] and r["val_acc"] == pytest.approx(0.93) and r["test_acc"] == pytest.approx(0.92)
    assert r["epochs"] == 2
    exact = frontier.read_at(frontier.pareto(df), 100 / 16)
    assert exact["test_acc"] == pytest.approx(0.89)
    miss = frontier.read_at(frontier.pareto(df), 1.0)  # 100x: beyond the sparsest point
    assert not miss["reached"] and miss["sparsest_pct"] == pytest.approx(100 / 16)
    assert math.isclose(
        frontier.read_at(frontier.pareto(df), 50)["test_acc"], 0.95
    )  # denser than all: first point


def test_rank_declares_ties_inside_the_intervals():
    rows = []
    for s in range(3):
        rows += _points("a", s, [(10, 0.970 + 0.001 * s, 0.970 + 0.001 * s, 1)])
        rows += _points("b", s, [(10, 0.969 + 0.001 * s, 0.9695 + 0.001 * s, 1)])
        rows += _points("c", s, [(10, 0.90 + 0.001 * s, 0.90 + 0.001 * s, 1)], family="structured")
    table = frontier.band_table(pd.DataFrame(rows), [10], n_test=10_000)
    assert table["reached"].all() and set(table["seeds"]) == {3}
    a = table[table["method"] == "a"].iloc[0]
    assert a["test_interval"] == pytest.approx(list(stats.accuracy_interval([0.970, 0.971, 0.972], 10_000)))
    ranked = frontier.rank(table)
    verdicts = dict(zip(ranked["method"], ranked["winner_vs"]))
    assert ranked.iloc[0]["method"] == "a" and verdicts == {"a": "—", "b": "tie", "c": "better"}
    w = frontier.winners(ranked).iloc[0]
    assert w["method"] == "a" and w["ties_with"] == ["b"] and w["runner_up"] == "b" and w["verdict"] == "tie"
    structured = frontier.winners(frontier.rank(table, "structured")).iloc[0]
    assert structured["method"] == "c" and structured["runner_up"] is None


def test_a_family_that_reaches_no_band_gives_empty_tables():
    rows = _points("c", 0, [(2, 0.9, 0.9, 0)], family="structured")
    table = frontier.band_table(pd.DataFrame(rows), [10], n_test=1000)
    assert not table["reached"].any()
    empty = frontier.winners(frontier.rank(table, "structured"))
    assert empty.empty and "method" in empty.columns
