"""Notebook 01's verdict protocol: the refinement lambda, the validation-chosen headline, the controls."""

import math

import pytest
import torch

from pruning_lib import masks, metrics
from pruning_lib.methods import gumbel as G
from pruning_lib.models import LeNet300100


def test_round_sig():
    assert G.round_sig(67.93) == 68.0
    assert G.round_sig(0.31623) == 0.32
    assert G.round_sig(948.7) == 950.0
    assert G.round_sig(0.0) == 0.0


def test_refine_lambda_interpolates_log_log_towards_the_aim():
    kept = {3.0: 3268, 30.0: 667, 100.0: 268}
    lam = G.refine_lambda(kept, 399)
    slope = math.log(268 / 667) / math.log(100 / 30)
    by_hand = 30 * math.exp(math.log(0.9 * 399 / 667) / slope)
    assert lam == G.round_sig(by_hand) == 68.0


def test_refine_lambda_stops_near_the_budget_and_steps_beyond_the_grid():
    assert G.refine_lambda({30.0: 667, 100.0: 350}, 399) is None  # 350 >= 0.8 x 399: near enough
    assert G.refine_lambda({30.0: 667, 100.0: 450}, 399) == G.round_sig(100 * math.sqrt(10))  # none within
    assert G.refine_lambda({100.0: 100}, 399) == G.round_sig(
        100 / math.sqrt(10)
    )  # nothing smaller to bracket
    assert G.refine_lambda({30.0: 667, 100.0: 0}, 399) == G.round_sig(math.sqrt(3000))  # no log of 0
    assert G.refine_lambda({10.0: 250, 30.0: 300}, 399) == G.round_sig(10 / math.sqrt(10))


def test_headline_lambda_uses_validation_within_the_budget():
    kept = {30.0: 667, 68.0: 370, 100.0: 268}
    assert G.headline_lambda(kept, {30.0: 0.95, 68.0: 0.92, 100.0: 0.91}, 399) == 68.0
    assert G.headline_lambda(kept, {30.0: 0.95, 68.0: 0.90, 100.0: 0.91}, 399) == 100.0
    assert G.headline_lambda({1.0: 9000, 3.0: 3000}, {1.0: 0.97, 3.0: 0.96}, 399) == 3.0  # sparsest


def test_pixel_choices():
    X = torch.zeros(10, 4)
    X[:, 1] = torch.arange(10.0)  # largest variance
    X[:5, 3] = 1.0  # second
    X[0, 2] = 0.1  # third; pixel 0 is constant
    assert G.top_variance_pixels(X, 2).tolist() == [1, 3]
    drawn = G.random_pixels(X, 3, seed=0)
    assert sorted(drawn.tolist()) == [1, 2, 3]  # all the non-constant pixels, never the constant one
    assert torch.equal(G.random_pixels(X, 2, seed=1), G.random_pixels(X, 2, seed=1))


@pytest.fixture
def tiny_mnist():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(96, 784, generator=g) * (torch.arange(784) % 7 == 0)  # only every 7th pixel varies
    return X, torch.randint(0, 10, (96,), generator=g)


def test_pixel_run_keeps_only_the_pixel_set_and_the_count(tiny_mnist):
    torch.manual_seed(0)
    dense = LeNet300100()
    pixels = G.top_variance_pixels(tiny_mnist[0], 20)
    model, seconds, hit = G.pixel_run(dense, pixels, 150, tiny_mnist, epochs=1, seed=0)
    kept_fc1 = masks.get_masks(model)["fc1"]
    assert not hit and seconds > 0
    assert metrics.sparsity(model)["weights_unmasked"] == 150
    assert set(torch.nonzero(kept_fc1.any(0)).flatten().tolist()) <= set(pixels.tolist())
    again, _, hit = G.pixel_run(dense, pixels, 150, tiny_mnist, epochs=1, seed=0)
    assert hit and torch.equal(masks.get_masks(again)["fc1"], kept_fc1)


def test_magnitude_run_matches_the_count_and_reloads(tiny_mnist):
    torch.manual_seed(0)
    dense = LeNet300100()
    model, _, hit = G.magnitude_run(dense, 321, tiny_mnist, epochs=1, seed=0)
    assert not hit and metrics.sparsity(model)["weights_unmasked"] == 321
    again, _, hit = G.magnitude_run(dense, 321, tiny_mnist, epochs=1, seed=0)
    assert hit and all(
        torch.equal(a, b) for a, b in zip(masks.get_masks(model).values(), masks.get_masks(again).values())
    )


def test_check_sparsity_catches_a_lost_mask(tiny_mnist):
    torch.manual_seed(0)
    dense = LeNet300100()
    model, _, _ = G.magnitude_run(dense, 321, tiny_mnist, epochs=1, seed=0)
    plain = LeNet300100()
    plain.load_state_dict(masks.export_state(model)["state"])  # values only: the masks are lost
    with pytest.raises(AssertionError, match="mask"):
        metrics.check_sparsity(plain, 321, "plain copy")


def test_pixel_capacity_and_a_too_large_request(tiny_mnist):
    dense = LeNet300100()
    assert G.pixel_capacity(dense, 10) == 10 * 300 + 300 * 100 + 100 * 10
    with pytest.raises(ValueError, match="pixels leave only"):
        G.pixel_run(dense, torch.arange(10), 40_000, tiny_mnist, epochs=1)


def test_pareto_figure_draws_each_headline_once_per_panel_in_its_own_colour():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd
    from matplotlib.colors import to_rgba

    from pruning_lib.plots.gumbel import lambda_pareto_figure

    runs = pd.DataFrame(
        {
            "density_weights_pct": [1.0, 0.1],
            "acc_sampled_mean": [0.97, 0.9],
            "acc_sampled_std": [0.01, 0.01],
            "acc_argmax": [0.975, 0.91],
            "lambda": [1.0, 100.0],
        }
    )
    baseline = pd.DataFrame({"kept": [2662, 266], "acc_finetuned": [0.98, 0.3], "acc_pruned": [0.5, 0.1]})
    fig = lambda_pareto_figure(
        runs,
        baseline,
        0.985,
        399,
        epochs=10,
        headline={"gumbel": (350, 91.6, (90.8, 92.5)), "gradual": (350, 77.8, (77.3, 78.3))},
    )
    for ax in fig.axes:
        labels = ax.get_legend_handles_labels()[1]
        assert sum("95% interval" in t for t in labels) == 2
        assert "global magnitude + fine-tuning (10 epochs)" in labels
        bars = [c for c in ax.containers if c.get_label().startswith("gumbel")]
        assert len(bars) == 1 and to_rgba(bars[0].lines[0].get_color()) == to_rgba("k")
