"""Notebook 00's exercise checks accept the reference answers and reject wrong ones."""

import pytest
import torch

from pruning_lib.exercises import ExerciseError, basics, solution
from pruning_lib.masks import masked_copy
from pruning_lib.models import LeNet300100
from pruning_lib.train import evaluate


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


def test_counts_by_hand(capsys):
    right = solution("basics", "by_hand")
    assert basics.check_counts_by_hand(right) is True
    assert basics.check_counts_by_hand(dict.fromkeys(right)) is False  # all None: not attempted
    assert "not attempted" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="once per output position"):
        basics.check_counts_by_hand({**right, "flops_dense": 2 * 62})  # forgot the conv's 9 positions
    with pytest.raises(ExerciseError, match="biases"):
        basics.check_counts_by_hand({**right, "compression_params": right["compression_weights"]})
    with pytest.raises(ExerciseError, match="not nonzero / total"):
        basics.check_counts_by_hand({**right, "compression_weights": 14 / 62})
    with pytest.raises(ExerciseError, match="multiply and an add"):
        basics.check_counts_by_hand({**right, "flops_effective": right["flops_effective"] / 2})
    with pytest.raises(ExerciseError, match="fill in flops_effective"):
        basics.check_counts_by_hand({**right, "flops_effective": None})


def test_the_counting_toy_matches_a_hand_count():
    model = basics.counting_toy()
    assert basics.counting_answers(model) == pytest.approx(
        {
            "compression_weights": 62 / 14,
            "compression_params": 67 / 19,
            "flops_dense": 252,
            "flops_effective": 108,
        }
    )


def teacher():
    """A LeNet-300-100 whose fc1 is mostly tiny weights (so it survives heavy pruning), and inputs it labels itself."""
    torch.manual_seed(0)
    model = LeNet300100()
    with torch.no_grad():
        w = model.fc1.weight
        big = torch.rand_like(w) < 0.04
        w.copy_(torch.where(big, torch.randn_like(w), 1e-3 * torch.randn_like(w)))
    x = torch.rand(256, 1, 28, 28)
    with torch.no_grad():
        y = model(x).argmax(1)
    return model, (x, y)


def test_global_or_layerwise():
    model, val = teacher()
    assert basics.check_global_or_layerwise(None, model, val) is False
    assert basics.check_global_or_layerwise(solution("basics", "global_or_layerwise"), model, val) is True
    with pytest.raises(ExerciseError, match="not this time"):
        basics.check_global_or_layerwise("layerwise", model, val)
    with pytest.raises(ExerciseError, match='"global" or "layerwise"'):
        basics.check_global_or_layerwise("fc1", model, val)


def test_most_tolerant_layer():
    model, val = teacher()
    assert basics.check_most_tolerant_layer(None, model, val) is False
    assert basics.check_most_tolerant_layer(solution("basics", "most_tolerant"), model, val) is True
    with pytest.raises(ExerciseError, match="not this time"):
        basics.check_most_tolerant_layer("fc3", model, val)
    with pytest.raises(ExerciseError, match="one of 'fc1', 'fc2', 'fc3'"):
        basics.check_most_tolerant_layer("conv1", model, val)


def test_layer_sensitivity_prunes_one_layer_at_a_time():
    model, val = teacher()
    scan = basics.layer_sensitivity(model, val, fractions=(0.0, 0.99))
    assert list(scan["layer"]) == ["fc1", "fc1", "fc2", "fc2", "fc3", "fc3"]
    assert (scan[scan["removed"] == 0.0]["val_acc"] == 1.0).all()  # nothing removed: the teacher's own labels


def test_oneshot_val_acc_matches_a_masked_copy_and_restores_the_model():
    model, val = teacher()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    masks = {"fc2": basics.magnitude_mask(model.fc2.weight, 0.9)}
    assert int(masks["fc2"].sum()) == 3000
    want = evaluate(masked_copy(model, masks), *val)["acc"]
    assert basics.oneshot_val_acc(model, masks, val) == want
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    pruned = masked_copy(model, {"fc1": basics.magnitude_mask(model.fc1.weight, 0.5)})  # a model with masks
    both = evaluate(masked_copy(pruned, masks), *val)["acc"]
    assert basics.oneshot_val_acc(pruned, masks, val) == both
