"""Notebook 03's records and run checks: a run's results.json entry, the optimizer and ablation records, the
alpha margins of a chain of pruning calls and the checks of a final model against its reload."""

import copy

import pandas as pd
import pytest
import torch
from torch import nn

from pruning_lib import masks, stats
from pruning_lib.methods import relief as R
from pruning_lib.models import MLP


def history(val_accs, test_accs):
    """A hand-made run history: iteration 0 is dense; params_pct halves with every iteration."""
    rows = []
    for t, (v, a) in enumerate(zip(val_accs, test_accs)):
        rows.append({"iteration": t, **{k: float(t) for k in R.report.POINT_KEYS}, "val_acc": v, "test_acc": a,
                     "test_acc_pruned": a - 0.01, "params_pct": 100 / 2**t, "seconds": 10.0 * t})  # fmt: skip
    return pd.DataFrame(rows)


def test_iteration_point_reads_a_row_and_its_drop():
    h = history([0.99, 0.98], [0.97, 0.95])
    p = R.iteration_point(h, 1)
    assert p["iteration"] == 1 and p["params_pct"] == 50.0 and p["test_acc"] == 0.95
    assert p["drop_pp"] == pytest.approx(2.0) and p["test_acc_pruned"] == pytest.approx(0.94)
    assert R.iteration_point(h, 0)["drop_pp"] == 0.0


class Fixed(nn.Module):
    """Predicts class 1 on the images listed in `ones`, class 0 elsewhere (images are their own index)."""

    def __init__(self, ones):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.ones = set(ones)

    def forward(self, X):
        hit = torch.tensor([float(int(x) in self.ones) for x in X[:, 0]])
        return torch.stack([1 - hit, hit], 1) + 0 * self.w


def test_network_entry_takes_the_rule_on_validation_and_intervals_on_test():
    X, y = torch.arange(10.0)[:, None], torch.zeros(10, dtype=torch.long)  # every image is class 0
    dense, pruned = Fixed([]), Fixed([3])  # the pruned model misses image 3
    h = history([0.99, 0.99, 0.97, 0.99], [1.0, 0.9, 0.8, 0.9])  # iteration 2 misses by 2 pp on validation
    asked = []

    def model_at(t):
        asked.append(t)
        return pruned

    e = R.network_entry(h, dense, model_at, (X, y), {"epoch_seconds": 1.5, "cache_hit": True, "val_acc": 0.99},
                        max_drop_pp=0.5, rule="stop_at_first_miss", target=(60.0, 20.0))  # fmt: skip
    op = e["operating_point"]
    assert asked == [1] and op["iteration"] == 1 and op["found"] and op["rule"] == "stop_at_first_miss"
    assert op["drop_pp"] == pytest.approx(10.0) and op["reloaded_test_acc"] == 0.9
    assert op["test_acc_interval_pct"] == list(stats.accuracy_interval([0.9], 10))
    hits = torch.ones(10, dtype=torch.bool)
    miss = hits.clone()
    miss[3] = False
    assert op["drop_interval_pp"] == list(stats.paired_difference(hits.numpy(), miss.numpy()))
    assert e["dense"]["iteration"] == 0 and e["dense"]["epoch_seconds"] == 1.5 and "val_acc" in e["dense"]
    assert e["dense"]["cache_hit"] is True and e["final"]["iteration"] == 3 and e["compute_seconds"] == 60.0
    assert len(e["iterations"]) == 4
    assert e["target"] == {"max_remaining_pct": 60.0, "max_drop_pp": 20.0, "met": True}
    tight = R.network_entry(h, dense, model_at, (X, y), {}, max_drop_pp=0.5, rule="sparsest_within",
                            target=(10.0, 20.0))  # fmt: skip
    assert tight["operating_point"]["iteration"] == 3 and tight["target"]["met"] is False
    unjudged = R.network_entry(h, dense, model_at, (X, y), {}, max_drop_pp=0.5, rule="stop_at_first_miss",
                               judged=False)  # fmt: skip
    assert unjudged["target"] == {"max_remaining_pct": None, "max_drop_pp": None, "met": None}


def test_optimizer_and_ablation_records():
    adam = {"dense": 1, "operating_point": 2, "final": 3, "target": 4, "iterations": 5}
    sgd = {"target": {"met": False}, "dense": 6}
    assert R.optimizer_record(adam, sgd) == {"adam": {"dense": 1, "operating_point": 2, "final": 3, "target": 4},
                                             "sgd": sgd, "sgd_meets_lenet300_targets": False}  # fmt: skip
    rules = pd.DataFrame({"remaining %": [1.0, 2.0]}, index=pd.Index(["method", "neither rule"], name="arm"))
    table = pd.DataFrame({"arm": ["alpha"], "params_pct": [float("nan")]})
    S = {"ablation_alphas": [0.8, 0.9], "ablation_iterations": 3, "ablation_epochs": 1, "other": 0}
    rec = R.ablation_record(S, {0.8: 1.0}, rules, table, 2.5)
    assert rec == {"alphas": [0.8, 0.9], "iterations": 3, "epochs": 1, "remaining_pct_by_alpha": {0.8: 1.0},
                   "rules": [{"arm": "method", "remaining %": 1.0}, {"arm": "neither rule", "remaining %": 2.0}],
                   "table": [{"arm": "alpha", "params_pct": None}], "seconds": 2.5}  # fmt: skip


def test_iteration_margins_per_pruning_call():
    torch.manual_seed(0)
    net, X = MLP([12, 8, 6, 3]), torch.rand(40, 12)
    chain = [masks.install_masks(copy.deepcopy(net))]
    for _ in range(2):
        chain.append(masks.clone(chain[-1]))
        R.prune_step(chain[-1], X, alpha_fc=0.8)
    alphas = {"1": 0.8, "3": 0.8, "5": 0.8}
    margins = R.iteration_margins(chain, X, alphas)
    assert len(margins) == 2 and min(margins) >= -1e-12
    for before, after, m in zip(chain[:-1], chain[1:], margins):
        shares = R.kept_share(before, after, X)
        assert m == pytest.approx(min(float(s.min()) - 0.8 for s in shares.values() if len(s)))
    assert R.iteration_margins(chain, X, {k: 0.9 for k in alphas})[0] == pytest.approx(margins[0] - 0.1)


def test_reload_checks_pass_on_a_copy_and_fail_on_a_changed_one():
    torch.manual_seed(0)
    net, X = MLP([12, 8, 6, 3]), torch.rand(40, 12)
    final = masks.install_masks(copy.deepcopy(net))
    R.prune_step(final, X, alpha_fc=0.8)
    kept = sum(int(masks.get_mask(m).sum()) for m in (final[1], final[3], final[5]))
    checks = R.reload_checks("run", final, masks.clone(final), kept)
    assert list(checks) == ["run: pruned weights exactly 0 after a reload from the cache",
                            "run: reloaded final model identical to the one in memory"]  # fmt: skip
    assert all(ok for ok, _ in checks.values())
    again = masks.clone(final)
    with torch.no_grad():
        again[1].weight_orig.add_(masks.get_mask(again[1]).float())  # a kept weight moved
        masks.refresh(again)
    assert [ok for ok, _ in R.reload_checks("run", final, again, kept).values()] == [True, False]
    with pytest.raises(AssertionError, match="a mask was lost"):
        R.reload_checks("run", final, final, kept - 1)


def test_plan_of_one_network_keeps_the_dense_model_section_1_reads():
    from pruning_lib.methods.relief.tasks import relief_plan

    S = dict(n_prune=10, l300_dense_epochs=1, l300_dense_milestones=[], l300_iterations=2, l300_epochs=1,
             l300_milestones=[], lenet5_dense="canonical", l5_dense_epochs=1, l5_dense_milestones=[],
             l5_iterations=2, l5_epochs=1, l5_milestones=[], ablation_alphas=[0.9], ablation_iterations=1,
             ablation_epochs=0)  # fmt: skip
    settings = dict(alpha_fc=0.95, alpha_conv=0.9, variant="paper", rewind=False)
    both, l300, l5 = (relief_plan(S, settings, "smoke", 0, networks=n) for n in ("all", "lenet300", "lenet5"))
    names = [t.name for t in both]
    assert len(both) == 7 and names[3:] == ["relief lenet300_adam", "relief lenet300_sgd", "relief lenet5",
                                             "relief alpha and rules"]  # fmt: skip
    assert l300 == [both[0], both[1], both[3], both[4], both[6]]  # no LeNet-5 dense model or run
    assert l5 == [both[0], both[2], both[5]]  # the dense Adam LeNet-300-100 stays: section 1 reads it
