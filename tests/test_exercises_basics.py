"""Notebook 00's exercise checks accept the reference answers and reject wrong ones."""

import pytest
import torch

from pruning_lib.exercises import ExerciseError, basics, solution


def test_layerwise_masks():
    assert basics.check_layerwise_masks(solution("basics", "layerwise_masks")) is True

    def by_signed_value(model, fraction):  # keeps the largest w, not the largest |w|
        out = {}
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.Linear):
                w = m.weight.detach().flatten()
                k = round(fraction * w.numel())
                mask = torch.ones_like(w, dtype=torch.bool)
                mask[w.topk(k, largest=False).indices] = False
                out[name] = mask.view_as(m.weight)
        return out

    with pytest.raises(ExerciseError, match="wrong weights"):
        basics.check_layerwise_masks(by_signed_value)
    with pytest.raises(ExerciseError, match="should keep"):
        basics.check_layerwise_masks(lambda model, f: solution("basics", "layerwise_masks")(model, f / 2))
