"""NNrelief's alpha sweep and rule ablation: more alpha keeps more, each rule only removes, the cache reloads."""

import torch

from pruning_lib.methods.relief import ablation
from pruning_lib.models import LeNet300100


def tiny_data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, 28, 28, generator=g)
    X[:, :, :4] = 0  # a blank border: pixels that are 0 on every image
    return X, torch.randint(0, 10, (n,), generator=g)


def test_alpha_sweep_and_rules():
    torch.manual_seed(0)
    dense = LeNet300100()
    with torch.no_grad():
        dense.fc2.bias[:5] = -100.0  # five fc2 units that never fire: only the dead-unit rule removes them
    X, y = tiny_data()
    kw = dict(alphas=[0.5, 0.9], alpha_fc=0.9, iterations=2, epochs=0)
    table, spent = ablation.alpha_and_rules(dense, X[:48], (X, y), (X, y), **kw)
    assert spent > 0
    at = table[table["iteration"] == 1].set_index(["arm", "alpha"])["params_pct"]
    assert at[("alpha", 0.5)] < at[("alpha", 0.9)]  # a larger alpha keeps more in one pruning call
    contrib = ablation.rule_contributions(table, 2)
    assert contrib.loc["both rules (the method)", "dead units removed"] >= 5
    assert contrib.loc["no dead-unit rule", "dead units removed"] == 0
    assert contrib.loc["no backward sweep", "units swept"] == 0
    assert (contrib["extra remaining vs the method (pp)"] >= -1e-9).all()  # a rule never adds connections
    again, spent_again = ablation.alpha_and_rules(dense, X[:48], (X, y), (X, y), **kw)
    assert spent_again == 0 and again.equals(table)


def test_short_arm_retrains_with_masks_kept():
    torch.manual_seed(1)
    dense = LeNet300100()
    X, y = tiny_data(seed=1)
    t = ablation.short_arm(dense, X[:48], (X, y), (X, y), alpha_fc=0.8, iterations=2, epochs=1)
    assert list(t["iteration"]) == [0, 1, 2]
    assert t["params_pct"].is_monotonic_decreasing
