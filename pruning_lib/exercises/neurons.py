"""Checks of notebook 04's exercises (removing whole neurons: brute force, Taylor estimates, re-ranking)."""

from __future__ import annotations

import torch

from ..methods import neurons as nr
from . import ExerciseError, exercise, expect, expect_close

FIRST_ORDER_CHOICES = ("same order", "same first neuron, different order", "different first neuron")


def _neuron_tiny_net(sizes, seed: int, n: int = 64, scale: float = 2.0):
    """A sigmoid net with fixed random weights U(-scale, scale), n inputs and targets in (0, 1), float64."""
    g = torch.Generator().manual_seed(seed)
    net = nr.SigmoidMLP(sizes).double()
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.copy_(
                (torch.rand(layer.weight.shape, generator=g, dtype=torch.float64) * 2 - 1) * scale
            )
            layer.bias.copy_((torch.rand(layer.bias.shape, generator=g, dtype=torch.float64) * 2 - 1) * scale)
    X = torch.rand(n, sizes[0], generator=g, dtype=torch.float64) * 2 - 1
    T = torch.rand(n, sizes[-1], generator=g, dtype=torch.float64)
    return net, X, T


def _neuron_near_trained_net():
    """A 2-6-1 net whose targets are its own outputs plus a little noise: it sits near a minimum, like a trained net."""
    net, X, _ = _neuron_tiny_net([2, 6, 1], seed=3, n=200)
    g = torch.Generator().manual_seed(103)
    with torch.no_grad():
        T = (net(X) + 0.05 * torch.randn(len(X), 1, generator=g, dtype=torch.float64)).clamp(0, 1)
    return net, X, T


def _neuron_one_hidden_nets():
    """The one-hidden-layer nets the by-hand checks use: (name, net, X, T)."""
    return [
        (f"{'-'.join(map(str, sizes))} net", *_neuron_tiny_net(sizes, seed))
        for sizes, seed in (([2, 3, 1], 1), ([4, 6, 3], 2))
    ]


def _as_number(value, what: str) -> float:
    """A Python float from a number or a one-element tensor (ExerciseError otherwise)."""
    if isinstance(value, torch.Tensor):
        expect(value.numel() == 1, f"{what} should be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    expect(isinstance(value, (int, float)), f"{what} should be a number, got {type(value).__name__}")
    return float(value)


def _bf_if_bias_kept(net, X, T, k) -> float:
    """The wrong 'removal' that zeroes neuron k's incoming weights only: its output stays sigma(b_k)."""
    trial = nr.SigmoidMLP(net.sizes).double()
    trial.load_state_dict(net.state_dict())
    with torch.no_grad():
        trial.layers[0].weight[k] = 0.0
    return nr.error(trial, X, T) - nr.error(net, X, T)


@exercise("Exercise 1 · brute force by hand")
def check_neuron_bf_by_hand(bf_by_hand) -> str:
    """Compare the reader's `bf_by_hand(net, X, T, k)` with nr.bf_scores and with a masked forward pass."""
    for name, net, X, T in _neuron_one_hidden_nets():
        exact = nr.bf_scores(net, X, T)[0]
        naive = nr.bf_scores_naive(net, X, T)[0]
        for k in range(net.sizes[1]):
            got = _as_number(bf_by_hand(net, X, T, k), f"bf_by_hand(net, X, T, {k})")
            want = exact[k].item()
            if abs(got - 2 * want) <= 1e-8 * (1 + abs(want)) and abs(want) > 1e-8:
                raise ExerciseError(f"{name}, neuron {k}: your ΔE is twice the true one: E has a factor ½")
            if abs(got + want) <= 1e-8 * (1 + abs(want)) and abs(want) > 1e-8:
                raise ExerciseError(f"{name}, neuron {k}: wrong sign: ΔE = E(without k) − E(with k)")
            if abs(got - _bf_if_bias_kept(net, X, T, k)) <= 1e-8 * (1 + abs(got)):
                raise ExerciseError(
                    f"{name}, neuron {k}: you zeroed the neuron's incoming weights, so its output stays σ(b_k) "
                    "instead of 0: set its output h_k to 0"
                )
            expect_close(got, want, f"{name}, ΔE of neuron {k}", rtol=1e-6, atol=1e-9)
            expect_close(
                got, naive[k].item(), f"{name}, ΔE of neuron {k} (masked forward pass)", rtol=1e-6, atol=1e-9
            )
    return "equals the library's rank-1 brute force and one masked forward pass per neuron, on two nets"


@exercise("Exercise 2 · the 2nd-order Taylor estimate by hand")
def check_neuron_taylor2_by_hand(taylor2_by_hand) -> str:
    """Compare the reader's `taylor2_by_hand(net, X, T, k)` with nr.taylor_scores(order=2); show brute force."""
    lines = []
    for name, net, X, T in _neuron_one_hidden_nets():
        t1 = nr.taylor_scores(net, X, T, order=1)[0]
        t2 = nr.taylor_scores(net, X, T, order=2)[0]
        exact = nr.bf_scores(net, X, T)[0]
        for k in range(net.sizes[1]):
            got = _as_number(taylor2_by_hand(net, X, T, k), f"taylor2_by_hand(net, X, T, {k})")
            want, first = t2[k].item(), t1[k].item()
            close = lambda a, b: abs(a - b) <= 1e-7 * (1 + abs(b))  # noqa: E731
            expect(
                not (close(got, first) and not close(first, want)),
                f"{name}, neuron {k}: you returned the 1st-order estimate ΔE¹ = {first:.6g}; add ½ Σ_n O² ∂²E/∂O²",
            )
            expect(
                not (close(got, 2 * first - want) and not close(first, want)),
                f"{name}, neuron {k}: the 2nd-order term has the wrong sign: it is + ½ Σ_n O² ∂²E/∂O²",
            )
            expect_close(
                got,
                want,
                f"{name}, ΔE² of neuron {k} (check g = Σ_i δ_i W_ik and H = Σ_i W_ik² s_i with "
                "s = σ'² + (o − t) σ'')",
                rtol=1e-6,
                atol=1e-9,
            )
            if name.startswith("2-3-1"):
                lines.append(f"neuron {k}: 2nd order {want:+.3f}, true {exact[k].item():+.3f}")
    print("on the 2-3-1 net, estimate vs brute force:", "; ".join(lines))
    return "equals the library's nr.taylor_scores(order=2) on two nets"


@exercise("Exercise 3 · does the 1st-order estimate rank neurons as brute force does?")
def check_first_order_ranking_prediction(prediction) -> str:
    """Measure, on a fixed near-trained 2-6-1 net, whether the 1st-order ranking matches brute force's."""
    expect(
        prediction in FIRST_ORDER_CHOICES,
        f"prediction should be one of {FIRST_ORDER_CHOICES}, got {prediction!r}",
    )
    net, X, T = _neuron_near_trained_net()
    exact = nr.bf_scores(net, X, T)[0]
    t1, t2 = nr.taylor_scores(net, X, T, order=1)[0], nr.taylor_scores(net, X, T, order=2)[0]
    bf_order = torch.argsort(exact, stable=True).tolist()
    t1_order, t2_order = torch.argsort(t1, stable=True).tolist(), torch.argsort(t2, stable=True).tolist()
    if t1_order == bf_order:
        measured = FIRST_ORDER_CHOICES[0]
    elif t1_order[0] == bf_order[0]:
        measured = FIRST_ORDER_CHOICES[1]
    else:
        measured = FIRST_ORDER_CHOICES[2]
    print(
        f"removal order (single ranking): brute force {bf_order}, 1st order {t1_order}, 2nd order {t2_order}"
    )
    print(
        f"the 1st order's first choice, neuron {t1_order[0]}: estimated ΔE {t1[t1_order[0]].item():+.3f}, "
        f"true ΔE {exact[t1_order[0]].item():+.3f} (brute force's first choice, neuron {bf_order[0]}: "
        f"{exact[bf_order[0]].item():+.3f})"
    )
    expect(
        prediction == measured,
        f"you predicted {prediction!r}, the measurement says {measured!r}: near a minimum the gradient is almost 0, "
        "so the tangent (1st order) sees almost no change for any neuron and ranks them nearly at random; the "
        "curvature (2nd order) is what tells them apart",
    )
    same2 = "orders them exactly as" if t2_order == bf_order else "orders them closer to"
    return f"measured {measured!r}: near a minimum the slope says little; the 2nd order {same2} brute force"


@exercise("Exercise 4 · serial brute force with re-ranking")
def check_rerank_order(rerank_order) -> str:
    """Compare the reader's `rerank_order(net, X, T, n)` with nr.serial_prune(..., 'bf', 'rerank') on fixed nets."""
    done = []
    for sizes, seed in (([3, 5, 4, 2], 3), ([2, 3, 1], 1)):
        net, X, T = _neuron_tiny_net(sizes, seed)
        K = sum(net.hidden_sizes)
        want = nr.serial_prune(net, X, T, "bf", "rerank", progress_bar=False)
        single = nr.serial_prune(net, X, T, "bf", "single", progress_bar=False)
        got = rerank_order(net, X, T, K)
        expect(isinstance(got, (list, tuple)), f"rerank_order should return a list, got {type(got).__name__}")
        got = [int(g) for g in got]
        expect(len(got) == K, f"{'-'.join(map(str, sizes))} net: asked for {K} removals, got {len(got)}")
        twice = sorted({g for g in got if got.count(g) > 1})
        expect(
            not twice, f"neurons {twice} removed twice: give removed neurons a score of +inf before argmin"
        )
        if got == single.order and single.order != want.order:
            raise ExerciseError(
                f"{'-'.join(map(str, sizes))} net: your order {got} is the single ranking (Algorithm I): "
                "score the neurons again after every removal"
            )
        expect(
            got == want.order,
            f"{'-'.join(map(str, sizes))} net: expected the order {want.order}, got {got} "
            "(each step: remove the alive neuron with the smallest brute-force ΔE, lowest id on a tie)",
        )
        done.append((sizes, want, single))
    sizes, want, single = done[0]
    print(
        f"{'-'.join(map(str, sizes))} net, SSE after each removal: re-ranking "
        f"{[round(v, 2) for v in want.sse[1:]]}, single ranking {[round(v, 2) for v in single.sse[1:]]}"
    )
    return (
        "equals the library's Algorithm II; a single ranking goes stale because removing one neuron changes "
        "what the others are worth (neurons that cancel each other)"
    )
