"""Whole-neuron removal as a head-to-head `Method`: serial brute force (Alg. II) on a suite network's FC stack.

Two registry entries come from one class: `Neurons()` ("neurons": the removal alone, no retraining, as in Wolfe
et al. 2017, Sec. "Proposed Pruning Algorithm") and `Neurons(finetune=True)` ("neurons_ft": the same removals,
then a short fine-tune with the removed neurons kept out, a project addition). Both read one cached brute-force
ranking, computed once with cross-entropy on the first `n_score` training images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, Literal

from torch import nn

from ... import cache
from ...masks import clone, export_state, load_state
from ...models import build_model
from ...train import fit
from ..base import Point, network_of
from .export import NEURON_LAYERS, neuron_inputs, remove_neurons
from .loop import PruneResult, serial_prune
from .net import SigmoidMLP, one_hot

VERSION = 1  # bump when a code change alters the cached rankings or fine-tuned models
RANKING_KIND, FINETUNE_KIND = "h2h-neurons", "h2h-neurons-ft"


def ranking_config(dense: nn.Module, X, y, steps: int) -> dict:
    """The cache config of a brute-force ranking: the dense weights, the scoring images, the removals."""
    return {"dense": cache.fingerprint(dense), "data": cache.fingerprint(X, y), "steps": steps}


def shared_ranking(network: str, dense: nn.Module, X, y, steps: int) -> tuple[PruneResult, bool]:
    """(ranking, cache hit): brute-force Alg. II, cross-entropy, the first `steps` removals of the FC stack.

    Cached, so "neurons" and "neurons_ft" on the same dense model and images share one ranking.
    """
    cfg = ranking_config(dense, X, y, steps)

    def compute() -> dict:
        net = SigmoidMLP.from_linears([getattr(dense, n) for n in NEURON_LAYERS[network]])
        inputs = neuron_inputs(network, dense, X)
        return serial_prune(
            net, inputs, one_hot(y), "bf", "rerank", steps=steps, progress_bar=False
        ).to_dict()

    payload, hit = cache.cached(RANKING_KIND, cfg, compute, version=VERSION)
    return PruneResult.from_dict(payload), hit


@dataclass
class Neurons:
    """Brute-force serial neuron removal (Alg. II, re-ranking) on LeNet-300-100's 400 or LeNet-5's 500 FC units.

    `values`: fractions of those hidden units removed, one point each (round(f * units) neurons, in the
    ranking's order; the convolutions of LeNet-5 are untouched). `budget`: for "neurons_ft", the fine-tune epochs
    (SGD, lr `finetune_lr`, cosine schedule, the removed neurons kept out); ignored by "neurons", which never
    retrains. Point.epochs is 0 for "neurons" and `budget` for "neurons_ft"; the ranking itself trains nothing.
    Seconds: the ranking's (as recorded when computed), plus the fine-tune's for "neurons_ft".
    """

    finetune: bool = False
    n_score: int = 2000  # training images the brute-force ranking scores on (the first n_score)
    finetune_lr: float = 0.01

    family: ClassVar[Literal["structured"]] = "structured"
    knob: ClassVar[str] = "removed_fraction"

    @property
    def name(self) -> str:
        """'neurons' (removal alone) or 'neurons_ft' (removal, then a fine-tune)."""
        return "neurons_ft" if self.finetune else "neurons"

    def points(self, dense: nn.Module, splits, *, values, budget, seed: int = 0) -> list[Point]:
        """One point per removed fraction in `values` (see the class docstring for `budget` and `epochs`)."""
        network = network_of(dense)
        layers = NEURON_LAYERS[network]
        X, y = splits.train[0][: self.n_score], splits.train[1][: self.n_score]
        n_hidden = sum(getattr(dense, n).out_features for n in layers[:-1])
        steps = max(round(f * n_hidden) for f in values)
        res, hit = shared_ranking(network, dense, X, y, steps)
        points = []
        for f in values:
            n = round(f * n_hidden)
            model = remove_neurons(clone(dense), layers, res.masks_after(n))
            if not self.finetune:
                points.append(Point(self.name, self.knob, float(f), model, 0.0, res.seconds, hit))
                continue
            ft_cfg = {
                "ranking": ranking_config(dense, X, y, steps),
                "removed": n,
                "epochs": budget,
                "lr": self.finetune_lr,
                "seed": seed,
                "train": cache.fingerprint(splits.train),
            }

            def finetune(model=model) -> dict:
                tuned, t0 = clone(model), time.perf_counter()
                fit(tuned, splits.train, epochs=budget, lr=self.finetune_lr, seed=seed, progress_bar=False)
                return {"model": export_state(tuned), "seconds": time.perf_counter() - t0}

            tuned, ft_hit = cache.cached(FINETUNE_KIND, ft_cfg, finetune, version=VERSION)
            ft_model = load_state(build_model(network), tuned["model"])
            seconds = res.seconds + tuned["seconds"]
            points.append(
                Point(self.name, self.knob, float(f), ft_model, float(budget), seconds, hit and ft_hit)
            )
        return points
