"""Checks of notebook 03's exercises (NNrelief: importance from activity, the alpha cut, dead units, alpha)."""

from __future__ import annotations

import torch

from ..masks import get_mask, install_masks
from ..methods.relief.scores import alpha_cut, candidates, fc_scores
from ..methods.relief.step import prune_step
from ..models import MLP
from . import ExerciseError, exercise, expect, expect_close, expect_shape

TOY_A = torch.tensor([[1.0, 0, 2], [3, 0, -2]])  # the paper's toy layer of the notebook: 2 images, 3 inputs
TOY_W = torch.tensor([[0.5, -1, 0.25], [-2, 3, 1]])
TOY_B = torch.tensor([-1.0, 0.5])


def relief_random_layer(seed: int = 0, units: int = 5, inputs: int = 7, n: int = 6):
    """(W, b, A): a small random layer whose inputs take both signs (so mean |a| and |mean a| differ)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(units, inputs, generator=g), torch.randn(units, generator=g),
            torch.randn(n, inputs, generator=g))  # fmt: skip


@exercise("Exercise 1 · connection importance from neural activity")
def check_relief_scores(relief_scores) -> str:
    """Compare the reader's `relief_scores(W, b, A)` with the library's fc_scores (bias as the last column)."""
    for name, (W, b, A) in (
        ("the toy layer", (TOY_W, TOY_B, TOY_A)),
        ("a random 5 x 7 layer", relief_random_layer()),
    ):
        got = relief_scores(W, b, A)
        want = candidates(*fc_scores(W, b, A))
        expect_shape(
            got, want.shape, f"on {name}, the contributions (one row per unit: inputs, then the bias)"
        )
        got = got.double()
        sums = got.sum(1)
        expect(
            not torch.allclose(sums, torch.ones_like(sums)) or torch.allclose(want.sum(1).double(), sums),
            f"on {name}, every row sums to 1: return the contributions c, not the normalised scores s = c / S",
        )
        averaged_first = candidates(W.abs() * A.mean(0).abs()[None, :], b.abs())
        expect(
            not torch.allclose(got, averaged_first.double()) or torch.allclose(averaged_first, want),
            f"on {name}, you took |mean of a| instead of the mean of |w a|: inputs of both signs cancel "
            "in a mean, so take the absolute value per image first",
        )
        expect_close(got, want, f"on {name}, the contributions")
    return "matches the library on the toy layer and on a random layer"


@exercise("Exercise 2 · the per-unit keep rule")
def check_keep_rule(keep_rule, cand=None, alpha=None) -> str:
    """Compare the reader's `keep_rule(c, alpha)` with the library's alpha cut (and on the notebook's layer)."""
    g = torch.Generator().manual_seed(1)
    cases = [
        (torch.tensor([[5.0, 3, 1, 1]]), 0.75, "[5, 3, 1, 1] at alpha 0.75"),
        (torch.tensor([[5.0, 3, 1, 1]]), 0.85, "[5, 3, 1, 1] at alpha 0.85 (a tie at the threshold)"),
        (torch.tensor([[0.0, 0, 0]]), 0.9, "an all-zero row"),
        (candidates(*fc_scores(TOY_W, TOY_B, TOY_A)), 0.7, "the toy layer at alpha 0.7"),
    ]
    cases += [(torch.rand(6, 10, generator=g) ** 3, a, f"random rows at alpha {a}") for a in (0.5, 0.9, 0.95)]
    if cand is not None:
        cases.append((cand, alpha, f"the first layer of the dense network at alpha {alpha}"))
    for c, a, name in cases:
        got = keep_rule(c, a)
        want = alpha_cut(c, a, "paper")
        expect_shape(got, want.shape, f"on {name}, the keep mask")
        got = got.bool()
        for r in range(c.shape[0]):
            if torch.equal(got[r], want[r]):
                continue
            total = float(c[r].double().sum())
            held = float(c[r][got[r]].double().sum()) / total if total else 0.0
            expect(
                total == 0 or held >= a - 1e-9,
                f"on {name}, unit {r} keeps {int(got[r].sum())} candidates holding {held:.3f} of its mass, "
                f"below alpha = {a}: keep adding the next strongest until the kept mass reaches alpha",
            )
            expect(total > 0, f"on {name}, unit {r} has no importance at all and should keep nothing")
            raise _not_minimal(name, r, got[r], want[r])
    return "the smallest strongest set holding alpha, as the library's cut, ties at the threshold kept"


def _not_minimal(name, r, got, want) -> ExerciseError:
    """The error for a keep mask that holds alpha but is not the library's minimal set."""
    return ExerciseError(
        f"on {name}, unit {r} keeps {int(got.sum())} candidates where the smallest strongest set holding "
        f"alpha has {int(want.sum())}: sort by contribution, keep the shortest prefix whose sum reaches alpha "
        "of the total, and keep every candidate tied with the last one kept"
    )


def relief_dead_probe():
    """(model, X): an MLP 4-3-3-2 whose first hidden unit never fires and whose second fires on one image only."""
    torch.manual_seed(0)
    net = MLP([4, 3, 3, 2])
    X = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1]])
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, 1, 1, 1], [1.0, 1, 1, 1], [1, 1, 1, 1]]))
        net[1].bias.copy_(torch.tensor([-10.0, -3.5, 0.1]))
    return net, X


@exercise("Exercise 3 · what the dead-unit rule removes")
def check_dead_units(dead_units, H1=None, library_dead=None) -> str:
    """Compare the reader's `dead_units(H)` with the units the library's pruning call removes as dead."""
    net, X = relief_dead_probe()
    H = torch.relu(net[1](X)).detach()
    got = dead_units(H)
    expect_shape(got, (3,), "dead_units(H) on a layer of 3 units (one flag per unit)")
    got = got.bool()
    pruned = install_masks(net)
    prune_step(pruned, X, alpha_fc=1.0, dead_rule=True, sweep=False)
    want = ~get_mask(pruned[1]).any(1)  # the library: the rows it emptied (alpha 1 keeps every live input)
    expect(
        not bool(got[1]),
        f"unit 1 fires on one image (output {float(H[:, 1].max()):.2f}) and is kept: the rule "
        "removes only units whose output is 0 on every image",
    )
    expect(bool(got[0]), "unit 0 outputs 0 on every image and should be flagged")
    expect(torch.equal(got, want), f"expected flags {want.tolist()}, got {got.tolist()}")
    note = ""
    if H1 is not None:
        n = int(dead_units(H1.detach().cpu()).bool().sum())
        if library_dead is not None:
            expect(
                n == int(library_dead),
                f"on the dense network's first layer your rule flags {n} units, the "
                f"library's first pruning call removed {int(library_dead)}",
            )
        note = f"; on the dense network's first layer: {n} of {H1.shape[1]} units"
    return f"matches the library on a 4-3-3-2 network{note}"


ALPHA_LOW, ALPHA_HIGH = 0.9, 0.99
PREDICTION_CHOICES = ("more", "fewer")


def relief_alpha_layer():
    """Contributions of a small random layer (16 units x 64 inputs + bias), heavy-tailed like image inputs."""
    g = torch.Generator().manual_seed(3)
    W = torch.randn(16, 64, generator=g)
    A = torch.rand(200, 64, generator=g) ** 4
    return candidates(*fc_scores(W, torch.randn(16, generator=g) * 0.1, A))


@exercise("Exercise 4 · raising alpha: predict, then measure")
def check_alpha_prediction(prediction) -> str:
    """Measure how many connections one pruning call keeps at alpha 0.9 and 0.99, and compare with the guess."""
    expect(
        prediction in PREDICTION_CHOICES,
        f"prediction should be one of {PREDICTION_CHOICES}, got {prediction!r}",
    )
    c = relief_alpha_layer()
    low, high = (int(alpha_cut(c, a).sum()) for a in (ALPHA_LOW, ALPHA_HIGH))
    measured = "more" if high > low else "fewer"
    expect(
        prediction == measured,
        f"measured: alpha {ALPHA_LOW} keeps {low} of {c.numel()} candidates, alpha {ALPHA_HIGH} keeps {high}. "
        "A larger alpha asks each unit to hold a larger share of its input, which needs more connections",
    )
    return (
        f"alpha {ALPHA_LOW} keeps {low} of {c.numel()} candidates, alpha {ALPHA_HIGH} keeps {high} "
        f"({high / low:.1f}x): the last tenth of the mass sits in a long tail of weak inputs"
    )
