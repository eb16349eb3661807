"""Training-speed benchmarks measured in one run: LeNet-5's memory layouts, timed in interleaved rounds.

LeNet5 runs its convolutions channels-last with max-pooling before the ReLU (the same function and gradient);
`TextbookLeNet5` is the layout it replaced (contiguous, conv-ReLU-pool). `lenet5_layouts` times SGD steps of
both on the same batches, alternating, and scales them to an epoch of the suite's 55,000 training images.
`malloc_compare` (`python -m pruning_lib.bench`) times Adam steps in two fresh processes, with and without
`pl.malloc.keep_freed_memory`.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from .malloc import keep_freed_memory, page_faults
from .models import LeNet5, build_model

TRAIN_IMAGES = 55_000  # the suite's MNIST training split


class TextbookLeNet5(LeNet5):
    """LeNet5 in the textbook layout: contiguous tensors, conv -> ReLU -> max-pool (the benchmark's "before")."""

    def __init__(self, num_classes: int = 10):
        super().__init__(num_classes)
        self.to(memory_format=torch.contiguous_format)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """conv, ReLU, 2x2 max-pool, twice, on contiguous tensors; flattened."""
        x = F.max_pool2d(F.relu(self.conv1(x.contiguous())), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)


def _sgd_steps(model, X, y, steps: int, batch: int) -> float:
    """Seconds for `steps` SGD steps (momentum 0.9) over consecutive batches of (X, y)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    t0 = time.perf_counter()
    for i in range(steps):
        j = (i * batch) % (len(y) - batch + 1)
        loss = F.cross_entropy(model(X[j : j + batch]), y[j : j + batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def lenet5_layouts(train, steps: int = 100, batch: int = 64, rounds: int = 3, seed: int = 0) -> dict:
    """Seconds per training epoch of LeNet-5, textbook layout vs the suite's, median of interleaved rounds."""
    X, y = train
    per_epoch = math.ceil(TRAIN_IMAGES / batch) / steps
    times = {"textbook": [], "channels_last_pool_first": []}
    for r in range(rounds):
        for name in list(times) if r % 2 == 0 else list(times)[::-1]:
            torch.manual_seed(seed)
            model = TextbookLeNet5() if name == "textbook" else LeNet5()
            _sgd_steps(model, X, y, 5, batch)  # warm-up
            times[name].append(_sgd_steps(model, X, y, steps, batch) * per_epoch)
    out = {f"{k}_epoch_s": statistics.median(v) for k, v in times.items()}
    out["speedup"] = out["textbook_epoch_s"] / out["channels_last_pool_first_epoch_s"]
    out.update(threads=torch.get_num_threads(), steps=steps, batch=batch, rounds=rounds)
    return out


def step_profile(steps: int = 30, rounds: int = 5, networks=("lenet300", "lenet5")) -> dict:
    """Best-of-`rounds` ms per Adam step (batch 64, one thread) of each network, and its page faults per step."""
    from .calibrate import step_seconds

    torch.set_num_threads(1)
    out = {"kept": keep_freed_memory()}
    for name in networks:
        torch.manual_seed(0)
        model = build_model(name)
        step_seconds(model, "cpu", steps=5)  # warm-up
        f0 = page_faults()
        best = min(step_seconds(model, "cpu", steps=steps, warmup=1) for _ in range(rounds))
        out[name] = {"ms": 1e3 * best, "faults_per_step": (page_faults() - f0) / ((steps + 1) * rounds)}
    return out


def malloc_compare(**kwargs) -> dict:
    """`step_profile(**kwargs)` in two fresh processes: PRUNING_MALLOC=0 ("off") and the default ("on": `pl.malloc`)."""
    code = f"import json, pruning_lib.bench as b; print(json.dumps(b.step_profile(**{kwargs!r})))"
    out = {}
    for label, flag in (("off", "0"), ("on", "1")):
        env = {**os.environ, "PRUNING_MALLOC": flag, "OMP_NUM_THREADS": "1"}
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        out[label] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


if __name__ == "__main__":
    r = malloc_compare()
    for name in ("lenet300", "lenet5"):
        off, on = r["off"][name], r["on"][name]
        print(f"{name}: {off['ms']:.2f} ms/step ({off['faults_per_step']:.0f} page faults) without, "
              f"{on['ms']:.2f} ms ({on['faults_per_step']:.0f}) with: {off['ms'] / on['ms']:.2f}x")  # fmt: skip
