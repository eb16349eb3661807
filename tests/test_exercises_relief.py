"""Notebook 03's exercise checks accept the reference answers and reject wrong ones."""

import pytest
import torch

from pruning_lib.exercises import ExerciseError, relief, solution


def test_relief_scores():
    assert relief.check_relief_scores(solution("relief", "relief_scores")) is True

    def stub(W, b, A):
        raise NotImplementedError

    assert relief.check_relief_scores(stub) is False
    with pytest.raises(ExerciseError, match=r"\|mean of a\|"):
        relief.check_relief_scores(
            lambda W, b, A: torch.cat([W.abs() * A.mean(0).abs(), b.abs()[:, None]], 1)
        )
    with pytest.raises(ExerciseError, match="should have shape"):
        relief.check_relief_scores(lambda W, b, A: W.abs() * A.abs().mean(0))  # the bias is forgotten
    with pytest.raises(ExerciseError, match="not the normalised scores"):
        relief.check_relief_scores(
            lambda W, b, A: (c := solution("relief", "relief_scores")(W, b, A)) / c.sum(1, keepdim=True)
        )


def test_keep_rule():
    ref = solution("relief", "keep_rule")
    c = torch.rand(30, 50) ** 2
    assert relief.check_keep_rule(ref, c, 0.95) is True
    assert relief.check_keep_rule(None) is False

    def below_alpha(c, alpha):  # stops one item short of alpha
        keep = ref(c, alpha)
        for j in range(c.shape[0]):
            if keep[j].sum() > 1:
                keep[j, c[j].masked_fill(~keep[j], float("inf")).argmin()] = False
        return keep

    with pytest.raises(ExerciseError, match="below alpha"):
        relief.check_keep_rule(below_alpha)
    with pytest.raises(ExerciseError, match="smallest strongest set"):
        relief.check_keep_rule(lambda c, alpha: c > 0)  # keeps every nonzero candidate
    with pytest.raises(ExerciseError, match="keep nothing"):
        relief.check_keep_rule(lambda c, alpha: ref(c, alpha) | (c.sum(1, keepdim=True) == 0))


def test_dead_units():
    ref = solution("relief", "dead_units")
    H1 = torch.relu(torch.randn(20, 8))
    H1[:, 3] = 0
    assert relief.check_dead_units(ref, H1, 1) is True
    with pytest.raises(ExerciseError, match="0 on every image"):
        relief.check_dead_units(lambda H: (H == 0).any(0))  # silent on some image, not on every image
    with pytest.raises(ExerciseError, match="shape"):
        relief.check_dead_units(lambda H: (H == 0).all(1))
    with pytest.raises(ExerciseError, match="library's first pruning call"):
        relief.check_dead_units(ref, H1, 2)


def test_alpha_prediction():
    assert relief.check_alpha_prediction(solution("relief", "prediction")) is True
    assert relief.check_alpha_prediction(None) is False
    with pytest.raises(ExerciseError, match="keeps"):
        relief.check_alpha_prediction("fewer")
    with pytest.raises(ExerciseError, match="one of"):
        relief.check_alpha_prediction("less")
