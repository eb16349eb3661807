"""Notebook 01's exercise checks accept the reference answers and reject wrong ones."""

import pytest
import torch

from pruning_lib.exercises import ExerciseError, gumbel, solution


def test_gumbel_max_keep():
    assert gumbel.check_gumbel_max_keep(solution("gumbel", "gumbel_max_keep")) is True

    def stub(theta, gumbels):
        raise NotImplementedError

    assert gumbel.check_gumbel_max_keep(stub) is False
    with pytest.raises(ExerciseError, match="a tie keeps"):  # strict >: ties are dropped
        gumbel.check_gumbel_max_keep(lambda t, g: (t[0] + g[0] > t[1] + g[1]).float())
    with pytest.raises(
        ExerciseError, match="differ from the library"
    ):  # channels swapped: keeps when drop wins
        gumbel.check_gumbel_max_keep(lambda t, g: (t[1] + g[1] >= t[0] + g[0]).float())
    with pytest.raises(ExerciseError, match="only 0 and 1"):  # the soft sample instead of the hard one
        gumbel.check_gumbel_max_keep(lambda t, g: torch.sigmoid((t[0] + g[0] - t[1] - g[1]) / 3))
    with pytest.raises(ExerciseError, match="shape"):
        gumbel.check_gumbel_max_keep(lambda t, g: (t + g >= 0).float())


def test_tau_prediction():
    assert gumbel.check_tau_prediction(solution("gumbel", "tau_prediction")) is True
    assert gumbel.check_tau_prediction(None) is False
    with pytest.raises(ExerciseError, match="you predicted that the kept fraction falls"):
        gumbel.check_tau_prediction("falls")
    with pytest.raises(ExerciseError, match="one of"):
        gumbel.check_tau_prediction("sometimes")


def test_straight_through_grad():
    assert gumbel.check_straight_through_grad(solution("gumbel", "straight_through_grad")) is True

    def no_inverse_tau(delta, noise, tau, upstream):
        s = torch.sigmoid((delta + noise) / tau)
        return upstream * s * (1 - s)

    def no_noise(delta, noise, tau, upstream):
        s = torch.sigmoid(delta)
        return upstream * s * (1 - s) / tau

    with pytest.raises(ExerciseError, match="forgot the 1/τ"):
        gumbel.check_straight_through_grad(no_inverse_tau)
    with pytest.raises(ExerciseError, match="left out the noise"):
        gumbel.check_straight_through_grad(no_noise)


def test_density_penalty():
    assert gumbel.check_density_penalty(solution("gumbel", "density_penalty")) is True

    def layer_mean(gates, noises):  # every layer weighs the same, whatever its size
        return sum(g.sample(1.0, n).mean() for g, n in zip(gates, noises)) / len(gates)

    def no_gradient(gates, noises):
        kept = sum(float((g.delta().detach() + n >= 0).sum()) for g, n in zip(gates, noises))
        return torch.tensor(kept / sum(g.numel() for g in gates))

    def expected(gates, noises):  # the expected density, not a sample
        return sum(torch.sigmoid(g.delta()).sum() for g in gates) / sum(g.numel() for g in gates)

    with pytest.raises(ExerciseError, match="layers' densities"):
        gumbel.check_density_penalty(layer_mean)
    with pytest.raises(ExerciseError, match="no gradient"):
        gumbel.check_density_penalty(no_gradient)
    with pytest.raises(ExerciseError, match="D̂: expected"):
        gumbel.check_density_penalty(expected)


def test_checks_leave_the_global_random_stream_alone():
    torch.manual_seed(5)
    before = torch.rand(3)
    torch.manual_seed(5)
    gumbel.check_gumbel_max_keep(solution("gumbel", "gumbel_max_keep"))
    gumbel.check_tau_prediction("unchanged")
    gumbel.check_straight_through_grad(solution("gumbel", "straight_through_grad"))
    gumbel.check_density_penalty(solution("gumbel", "density_penalty"))
    assert torch.equal(torch.rand(3), before)
