"""Notebook 02's report helpers (`thresholds.report`, `thresholds.results`, `Scoreboard`) on hand-made inputs."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from pruning_lib import reference
from pruning_lib.data import Splits
from pruning_lib.methods import thresholds as th
from pruning_lib.methods.thresholds import report
from pruning_lib.models import build_model

N = 1000  # images per split: enough for a paired interval to exclude 0 when half the images differ


class Fixed(nn.Module):
    """A 'model' that predicts the stored label of each input (its first feature): correct where it matches y."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 2)  # a prunable layer to count; its output is ignored

    def forward(self, x):
        return nn.functional.one_hot(x[:, 0].long(), 2).float() + 0 * self.fc(x)


def hits(n_correct, n=N):
    return np.arange(n) < n_correct


def board_with(test: dict, val: dict | None = None, seeds=(0,)) -> th.Scoreboard:
    """A Scoreboard whose hits are given: {(what, net): per-image bools}, the same for every seed."""
    board = th.Scoreboard(splits=None, seeds=seeds)
    for (what, net), h in test.items():
        for s in seeds:
            board.test[what, net, s] = h
    for (what, net), h in (val or {}).items():
        for s in seeds:
            board.val[what, net, s] = h
    return board


def test_scoreboard_scores_intervals_and_compares():
    y = torch.zeros(4, dtype=torch.long)
    X_test = torch.tensor([[0.0], [0.0], [1.0], [1.0]])  # predicts 0, 0, 1, 1: half right
    X_val = torch.tensor([[0.0], [0.0], [0.0], [1.0]])  # three of four right
    board = th.Scoreboard(Splits(train=None, val=(X_val, y), test=(X_test, y)), seeds=[0])
    assert board.score(("m", "net", 0), Fixed()) == {"val_error_pct": 25.0, "error_final_pct": 50.0}
    assert board.test["m", "net", 0].tolist() == [True, True, False, False]
    lo, hi = board.interval("m", "net")
    assert lo < 50 < hi
    board = board_with(
        {("a", "n"): hits(900), ("b", "n"): hits(400)}, {("a", "n"): hits(500), ("b", "n"): hits(500)}
    )
    d = board.versus("a", "b", "n")
    assert d["diff_pp"] == pytest.approx(-50.0) and d["verdict"] == "better" and d["interval"][1] < 0
    assert board.versus("a", "b", "n", hits=board.val)["verdict"] == "tie"


def sweep_rows(net="n", lams=(1.0, 2.0, 3.0), nnz=(300, 200, 100)):
    return pd.DataFrame([
        {"network": net, "seed": 0, "lam": lam, "epochs": 4.0, "val_error_final_pct": 2.0 + i,
         "weights_nonzero": w, "weights_pct": w / 10, "params_nonzero": w + 10, "params_pct": w / 10 + 1,
         "compression_weights": 1000 / w, "compression_params": 1010 / (w + 10), "error_final_pct": 1.0 + i,
         "joint_s": 1.0, "hard_s": 0.5, "finetune_s": 2.0, "error_hard_pct": 1.0, "error_soft_pct": 1.0 + i / 10}
        for i, (lam, w) in enumerate(zip(lams, nnz))
    ])  # fmt: skip


HAN_MEAN = pd.Series({"val_error_pct": 2.0, "weights_nonzero": 250.0, "weights_pct": 25.0, "epochs": 10.0,
                      "seconds": 20.0})  # fmt: skip


def test_the_operating_point_is_the_sparsest_lambda_that_ties_han_on_validation():
    val = {("han", "n"): hits(900), ("ours_1", "n"): hits(900), ("ours_2", "n"): np.roll(hits(895), 50),
           ("ours_3", "n"): hits(500)}  # fmt: skip
    o = th.choose_operating_point(sweep_rows(), board_with({}, val), HAN_MEAN, "n")
    assert o["lam"] == 2.0 and o["weights_nonzero"] == 200.0 and o["epochs"] == 4.0
    assert [v["verdict"] for v in o["validation"].values()] == ["tie", "tie", "worse"]
    assert o["han_val_error_pct"] == 2.0 and o["han_weights_nonzero"] == 250.0
    val[("ours_1", "n")] = val[("ours_2", "n")] = hits(100)
    assert th.choose_operating_point(sweep_rows(), board_with({}, val), HAN_MEAN, "n")["lam"] is None


def test_reductions_against_han_rebuilt_and_published():
    dense = build_model("lenet300")
    sweep = sweep_rows(net="lenet300", nnz=(30000, 20000, 10000))
    board = board_with({("han", "lenet300"): hits(984), ("ours_2", "lenet300"): hits(984)})
    han_mean = HAN_MEAN.copy()
    han_mean["weights_nonzero"] = 25000.0
    a = th.reductions(sweep, board, han_mean, "lenet300", 2.0, {"error_pct": 1.59}, dense)
    assert a["han_published_weights_nonzero"] == 21776
    assert a["reduction_vs_han_rebuilt_pct"] == pytest.approx(20.0)
    assert a["reduction_vs_han_published_pct"] == pytest.approx(100 * (1 - 20000 / 21776))
    assert a["vs_han_rebuilt"]["verdict"] == "tie" and a["matched_error_rebuilt"]
    assert (
        a["vs_han_published"] == {"verdict": "tie", "published_error_pct": 1.59}
        and a["matched_error_published"]
    )
    assert a["error_final_pct"] == 2.0 and a["weights_pct"] == 2000.0


def point_and_numbers(reduction=40.0):
    o = {
        "lam": 2.0,
        "han_val_error_pct": 2.0,
        "validation": {"2": {"val_error_pct": 2.1, "diff_pp": 0.1, "verdict": "tie"}},
    }
    a = {"lam": 2.0, "weights_nonzero": 200.0, "weights_pct": 20.0, "error_final_pct": 1.5,
         "error_interval": [1.2, 1.8], "vs_han_rebuilt": {"diff_pp": 0.1, "interval": [-0.1, 0.3], "verdict": "tie"},
         "vs_han_published": {"verdict": "tie", "published_error_pct": 1.59}, "reduction_vs_han_rebuilt_pct": reduction,
         "reduction_vs_han_published_pct": 10.0, "han_published_weights_nonzero": 222.0,
         "matched_error_rebuilt": True, "matched_error_published": False}  # fmt: skip
    return o, a


def test_operating_point_lines_say_what_was_chosen_and_flag_a_reduction_above_the_claim():
    o, a = point_and_numbers(40.0)
    kw = dict(lam=2.0, budget=4.0, han_name="Han", han_mean=HAN_MEAN, claim=(14, 33))
    lines = th.operating_point_lines("Net", o, a, **kw)
    assert lines[0] == "Net: validation error vs Han's 2.00%: λ 2: 2.10% (+0.10 pp, tie)"
    assert (
        "our operating point = λ 2" in lines[1]
        and "40.0% fewer weights than Han (paper claims 14-33%)" in lines[1]
    )
    assert lines[1].endswith("10.0% fewer weights, NOT at matched error")
    assert len(lines) == 3 and "above the paper's 33%" in lines[2]
    o["lam"] = None
    lines = th.operating_point_lines("Net", o, point_and_numbers(20.0)[1], **kw)
    assert len(lines) == 2 and "no operating point; the main run λ = 2" in lines[1]


def test_method_table_has_one_row_per_method_and_point_in_order():
    gradual = pd.DataFrame([{"network": "n", "seed": 0, "compression": 12.5, "epochs": 4.0, "seconds": 3.0,
                             "weights_pct": 8.0, "val_error_pct": 2.5}])  # fmt: skip
    dense_table = pd.DataFrame([{"network": "n", "seed": 0, "val_error_pct": 1.5}])
    test = {("dense", "n"): hits(990), ("han", "n"): hits(985), ("gradual_12.5", "n"): hits(980),
            **{(f"ours_{lam:g}", "n"): hits(984) for lam in (1.0, 2.0, 3.0)}}  # fmt: skip
    t = th.method_table("n", dense_table=dense_table, han_mean=HAN_MEAN, gradual=gradual, sweep=sweep_rows(),
                        op_lam=2.0, board=board_with(test), han_name="Han", published={"weights_pct": 8.0, "error_pct": 1.6})  # fmt: skip
    assert t["method"].tolist() == ["dense", "Han", "Han et al. 2015 (published)", "gradual (Zhu & Gupta)",
                                    "our run", "our operating point", "our run"]  # fmt: skip
    assert t["knob"].tolist() == ["", "published ratios", "Tables 1-3", "12.5x", "λ=1", "λ=2", "λ=3"]
    assert t["test_error_pct"].tolist() == pytest.approx([1.0, 1.5, 1.6, 2.0, 1.6, 1.6, 1.6])
    assert t["verdict vs Han"].tolist()[:3] == ["better", "", ""] and t.loc[4, "seconds"] == 3.5
    assert "what" not in t.columns


def test_joint_epochs_to_and_training_cost():
    hist = pd.DataFrame({"phase": ["joint"] * 3 + ["finetune"], "epoch": [0.5, 1.0, 1.5, 2.0],
                         "weights_pct": [40.0, 20.0, 10.0, 5.0]})  # fmt: skip
    hist.attrs["summary"] = {"joint_s": 1.0, "hard_s": 0.5, "finetune_s": 2.0}
    assert th.joint_epochs_to(hist, 25.0) == 1.0 and th.joint_epochs_to(hist, 5.0) is None
    a = {"lam": 2.0, "weights_nonzero": 200.0, "matched_error_rebuilt": True}
    cost = th.training_cost(a, hist, HAN_MEAN, budget=4, has_point=True, han_name="Han")
    assert cost.index.tolist() == ["Han", "our operating point (λ = 2)"]
    row = cost.iloc[1]
    assert row["epochs"] == 4.0 and row["seconds"] == 3.5 and row["epochs to Han's sparsity"] == 1.0
    assert row["reaches Han's sparsity and error"]
    a["weights_nonzero"] = 300.0
    assert not th.training_cost(a, hist, HAN_MEAN, budget=4, has_point=False, han_name="Han").iloc[1].iloc[3]


def test_transfer_table_and_deltas(monkeypatch):
    y = torch.zeros(N, dtype=torch.long)
    X = torch.zeros(N, 1)  # every Fixed model is right on the source task
    probe = {"random": hits(700), "dense": hits(950), "han": hits(945)}

    def fake_probe(model, train, test, l2, max_iter):
        h = torch.tensor(probe[model.tag])
        return {"acc": float(h.float().mean()), "correct": h, "cache_hit": True}

    monkeypatch.setattr(report, "transfer_probe", fake_probe)
    models = {}
    for m in probe:
        models[m] = Fixed()
        models[m].tag = m
    cache_hits = {}
    transfer, probe_hits = th.transfer_table(models, {"random": 0, "dense": 0, "han": 2}, (X, y),
                                             {"task": ((X, y), (X, y))}, cache_hits)  # fmt: skip
    assert cache_hits == {"probe_random_task": True, "probe_dense_task": True, "probe_han_task": True}
    assert transfer["task probe acc %"].tolist() == pytest.approx([70.0, 95.0, 94.5])
    assert (
        transfer["source_error_pct"].tolist() == [0.0, 0.0, 0.0]
        and transfer.loc["han", "epochs after dense"] == 2
    )
    assert transfer["weights_pct"].tolist() == [100.0] * 3
    delta = th.transfer_deltas(transfer, probe_hits, ["task"])
    assert (
        delta["random", "task"]["diff_pp"] == pytest.approx(-25.0)
        and delta["random", "task"]["verdict"] == "worse"
    )
    assert transfer["task Δ pp"].tolist() == pytest.approx([-25.0, 0.0, -0.5])


def test_self_checks():
    sweep = pd.concat([sweep_rows("a"), sweep_rows("b", nnz=(100, 200, 300))])
    checks = th.self_checks(sweep, {"a": "A", "b": "B"}, pd.Series([85.0]), {"interval": [-5.0, -4.0]})
    assert checks["passes"].tolist() == [True, False, True, True, None]
    assert checks["check"].iloc[-1].endswith("max 0.20 pp")


def test_targets_are_held_only_where_the_profile_has_them():
    assert th.met_if(1, True) is True and th.met_if(0, True) is False and th.met_if(1, False) is None
    o, a = point_and_numbers(20.0)
    o["weights_pct"] = 6.9
    hs = {"test_error_pct": 1.6000000000000014}
    kw = dict(han_target_error=1.6, reached=True, epoch_ratio=0.5)
    t = th.net_targets("n", o, a, hs, target=(6.9, 1.5), has_targets=True, **kw)
    assert [v["met"] for v in t.values()] == [True, True, True, False, True, True]
    assert t["n_error_pct"] == {"value": 1.5, "threshold": 1.5, "met": True}
    t = th.net_targets("n", o, a, hs, target=None, has_targets=False, **kw)
    assert {v["met"] for v in t.values()} == {None} and t["n_weights_pct"]["threshold"] is None


def test_net_report_rows_and_the_gradual_row():
    o, a = point_and_numbers(20.0)
    o["weights_pct"] = 6.0
    hs = {"test_error_pct": 1.5, "counts": {"weights_pct": 8.2}, "published": {"error_pct": 1.59},
          "test_error_interval": [1.3, 1.7], "vs_published_error": "tie"}  # fmt: skip
    cost = pd.DataFrame({"seconds": [20.0, 5.0], "reaches Han's sparsity and error": [True, True]})
    flop = pd.DataFrame(
        {"our run: FLOP % (act.-aware)": [3.0], "Han 2015: FLOP % (act.-aware)": [8.0]}, index=["total"]
    )
    gradual = pd.DataFrame([{"network": "n", "compression": 12.5, "weights_pct": 8.0}])
    board = board_with(
        {("dense", "n"): hits(990), ("ours_2", "n"): hits(985), ("gradual_12.5", "n"): hits(980)}
    )
    kw = dict(o=o, a=a, han_summary=hs, han_mean=HAN_MEAN, cost=cost, flop=flop, budget=4.0, dense_error=1.0,
              caffe_error=1.64, board=board, han_name="Han", han_target_error=1.6, target=(6.9, 1.8),
              claim=(14, 33), has_targets=True)  # fmt: skip
    targets, rows = th.net_report("n", "Net", gradual=gradual, **kw)
    assert [r["id"] for r in rows][-1] == "n_ours_minus_gradual_error" and len(rows) == 12
    assert rows[0]["verdict"] == "tie" and rows[0]["measured"] == 1.0  # Caffe's 1.64% inside dense's interval
    assert targets["n_shorter_training"]["value"] == 0.4 and targets["n_shorter_training"]["met"]
    by_id = {r["id"]: r for r in rows}
    assert (
        by_id["n_training_seconds_ratio"]["measured"] == 0.25
        and by_id["n_ours_flops_act_pct"]["paper"] == 8.0
    )
    assert by_id["n_reduction_in_paper_range"]["met"] is True
    _, rows = th.net_report("n", "Net", gradual=gradual.iloc[:0], **kw)
    assert len(rows) == 11


def test_transfer_report_targets_and_the_control():
    d = {("han", "digits 5-9"): {"diff_pp": -0.2, "interval": [-0.5, 0.1], "verdict": "tie"},
         ("thresholds", "digits 5-9"): {"diff_pp": -0.9, "interval": [-1.2, -0.6], "verdict": "worse"},
         ("random", "digits 5-9"): {"diff_pp": -4.0, "interval": [-4.5, -3.5], "verdict": "worse"},
         ("han", "Fashion-MNIST"): {"diff_pp": 0.3}, ("thresholds", "Fashion-MNIST"): {"diff_pp": -0.4}}  # fmt: skip
    targets, rows = th.transfer_report(d, True, True)
    assert [t["met"] for t in targets.values()] == [True, False, True, None, None]
    assert list(targets)[-1] == "transfer_fashion_thresholds_delta_pp"
    assert [r["id"] for r in rows] == [
        "transfer_han_delta",
        "transfer_ours_delta",
        "transfer_random_control_delta",
    ]
    targets, _ = th.transfer_report(d, False, False)
    assert len(targets) == 3 and {t["met"] for t in targets.values()} == {None}


def test_results_json_parts():
    df = pd.DataFrame({"a": [1, 2], "b": [np.float64(0.5), float("nan")]})
    assert th.json_records(df) == [{"a": 1, "b": 0.5}, {"a": 2, "b": None}]
    hist = pd.DataFrame({"phase": ["joint", "finetune"], "tau": [0.5, None], "loss": [1.0, 0.5]})
    hist.attrs["summary"] = {"config": {"x": 1}, "weights_pct": 5.0}
    ours = th.ours_result(hist, lam=2, seed=0, epochs=4)
    assert ours == {"lam": 2.0, "seed": 0, "epochs": 4, "weights_pct": 5.0, "history": {"phase": ["joint"],
                    "tau": [0.5], "loss": [1.0]}}  # fmt: skip
    summ = {"per_layer": [{"layer": "fc1"}], "epochs": 20}
    han = th.han_result((None, pd.DataFrame({"x": [1]}), summ), HAN_MEAN, "lenet5", 0.8)
    assert han["epochs"] == 20 and han["per_layer"] == [{"layer": "fc1"}] and han["error_ref_pct"] == 0.8
    assert han["published_table"] == reference.han_table(3).to_dict("records") and han["history"] == {
        "x": [1]
    }
    o, a = point_and_numbers(20.0)
    assert th.reduction_result(o, a) == {"rebuilt": 20.0, "published": 10.0, "matched_error_rebuilt": True,
                                         "matched_error_published": False, "operating_point": True}  # fmt: skip
    src = Splits(train=(None, [0] * 5), val=None, test=(None, [0] * 3))
    probe_data = {"t": ((None, [0] * 4), (None, [0] * 2))}
    res = th.transfer_result(pd.DataFrame({"method": ["dense"], "x": [1.0]}).set_index("method"), src, probe_data,
                             False, True)  # fmt: skip
    assert res == {"rows": [{"method": "dense", "x": 1.0}], "source_train": 5, "source_test": 3,
                   "probe": {"t": [4, 2]}, "fashion": False, "dense_cache_hit": True}  # fmt: skip


def test_plan_of_one_network_is_the_full_plan_without_the_other():
    from pruning_lib.methods.thresholds.tasks import threshold_plan

    S = dict(ours_lenet300=(1, 1), ours_lenet5=(2, 1), gradual_lenet300=[12.5], gradual_lenet5=[12.5, 25.0],
             ablation=[("l0", 2.0), ("none", 0.0)], ablation_budget=(1, 1))  # fmt: skip
    titles = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}

    def plan(*nets):
        lams = {net: [1.0, 2.0] for net in nets}
        opts = {"reg": "l0", "beta_mode": "anneal", "lr": 0.005}
        return threshold_plan(S, {n: titles[n] for n in nets}, [0, 1], lams, opts, {"beta_mode": "anneal", "lr": 0.005},
                              "smoke", "cpu")  # fmt: skip

    both, l300, l5 = plan("lenet300", "lenet5"), plan("lenet300"), plan("lenet5")
    per_net = 2 * (2 + 1 + 2)  # 2 seeds x (dense, Han, 1 gradual, 2 λ) for LeNet-300-100
    assert len(both) == per_net + 2 * (2 + 2 + 2) + 2 and len(l300) == per_net + 2  # + the 2 ablation runs
    assert both == l300[:per_net] + l5 + l300[per_net:]  # the same tasks in the same order
    assert all(t.kwargs.get("net", "lenet5") == "lenet5" for t in l5) and not any(
        "none" in t.name for t in l5
    )
    assert [t.name for t in l300[per_net:]] == [t.name for t in both[-2:]] and "reg=none" in l300[-1].name


def test_self_checks_leave_out_the_parts_that_did_not_run():
    sweep = pd.DataFrame({"network": ["lenet5"] * 2, "lam": [1.0, 2.0], "weights_nonzero": [30, 20],
                          "error_hard_pct": [1.0, 1.2], "error_soft_pct": [1.0, 1.1]})  # fmt: skip
    full = report.self_checks(sweep, {"lenet5": "LeNet-5"}, pd.Series([90.0]), {"interval": [-9.0, -4.0]})
    alone = report.self_checks(sweep, {"lenet5": "LeNet-5"}, None, None)
    assert len(full) == 4 and full["passes"].tolist()[:3] == [True, True, True]
    assert alone["check"].tolist() == [full["check"][0], full["check"][3]]
