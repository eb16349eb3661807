"""Reference answers to the exercises of notebook 05 (head to head). Try them yourself first."""

import copy
import math
import time

from torch import nn
from torch.nn.utils import prune

from pruning_lib.methods.base import Point


class LayerwiseMagnitude:
    """One-shot layerwise magnitude pruning without retraining: every layer keeps its 1/c largest |w|."""

    name = "magnitude_layerwise"
    family = "unstructured"
    knob = "compression"

    def points(self, dense, splits, *, values, budget=0, seed=0):
        """One pruned copy of `dense` per compression c in `values` (no training: 0 epochs)."""
        out = []
        for c in values:
            t0 = time.perf_counter()
            model = copy.deepcopy(dense)
            for module in model.modules():
                if isinstance(module, nn.Linear | nn.Conv2d):
                    prune.l1_unstructured(module, "weight", amount=1 - 1 / c)
            out.append(Point(self.name, self.knob, float(c), model, 0.0, time.perf_counter() - t0))
        return out


def read_frontier(compressions, accuracies, band_pct):
    """Accuracy of a frontier (compressions ascending) at band_pct % of the weights; None when not reached."""
    target = 100 / band_pct
    if target > compressions[-1] * (1 + 1e-9):
        return None  # beyond the sparsest point
    if target <= compressions[0]:
        return accuracies[0]  # the frontier holds its densest accuracy below its first point
    for (c0, a0), (c1, a1) in zip(zip(compressions, accuracies), zip(compressions[1:], accuracies[1:])):
        if c0 < target <= c1:
            w = (math.log2(target) - math.log2(c0)) / (math.log2(c1) - math.log2(c0))
            return (1 - w) * a0 + w * a1
    return accuracies[-1]


def wilson_interval(correct, n, z=1.959964):
    """Wilson's 95% interval of the proportion correct / n, as fractions (low, high)."""
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


prediction = "tie"  # 98.2% vs 98.0% on 10,000 images: the 95% intervals overlap
