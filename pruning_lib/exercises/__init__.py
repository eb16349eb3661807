"""Exercises that check themselves: the checks behind each notebook's `exercise` cells, and the reference answers.

A notebook's exercise is a stub the reader fills in (a function that raises NotImplementedError, or a variable
left at None), followed by a check cell tagged `exercise` that calls one check of this package, e.g.
`pl.exercises.basics.check_layerwise_masks(layerwise_masks)`. A check built with `@exercise(...)`:

* prints a hint and returns False while the answer is not attempted (None, or a stub raising NotImplementedError),
  so a notebook run with stubs (the committed notebooks) never stops;
* raises `ExerciseError` naming what is wrong (shape, value, tolerance) for a wrong answer;
* prints a tick and returns True for a right one.

Reference answers live in `notebooks/solutions/<slug>.py`, out of the reader's way; a notebook run with
`solutions=True` (CI sets `PRUNING_SOLUTIONS=1`) fills every stub from there, so every check runs, and the unit
tests feed each check a wrong answer and expect it to be rejected. One module per notebook, named by its slug.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable

import torch

from ..paths import ROOT

NOT_DONE = "not attempted yet: write your answer in the cell above, run it, then run this cell again"


class ExerciseError(AssertionError):
    """A check's verdict on a wrong answer: what is wrong, and by how much."""


def exercise(title: str) -> Callable:
    """Decorator for a check `check(answer, ...)`: not attempted -> hint and False; wrong -> ExerciseError; right -> True."""

    def wrap(check: Callable) -> Callable:
        @functools.wraps(check)
        def run(answer, *args, **kwargs) -> bool:
            if answer is None:
                print(f"○ {title}: {NOT_DONE}")
                return False
            try:
                message = check(answer, *args, **kwargs)
            except NotImplementedError:
                print(f"○ {title}: {NOT_DONE}")
                return False
            print(f"✓ {title}: right{f' ({message})' if message else ''}")
            return True

        run.title = title
        return run

    return wrap


def expect(condition: bool, message: str) -> None:
    """Raise ExerciseError(message) unless `condition` holds."""
    if not condition:
        raise ExerciseError(message)


def expect_shape(value, shape, what: str) -> None:
    """`value` is a tensor of `shape` (ExerciseError naming both shapes otherwise)."""
    expect(isinstance(value, torch.Tensor), f"{what} should be a torch.Tensor, got {type(value).__name__}")
    expect(
        tuple(value.shape) == tuple(shape),
        f"{what} should have shape {tuple(shape)}, got {tuple(value.shape)}",
    )


def expect_close(value, expected, what: str, *, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """`value` equals `expected` within rtol/atol (numbers or tensors; the message gives the largest gap)."""
    got = torch.as_tensor(value, dtype=torch.float64)
    want = torch.as_tensor(expected, dtype=torch.float64)
    expect(got.shape == want.shape, f"{what} should have shape {tuple(want.shape)}, got {tuple(got.shape)}")
    gap = (got - want).abs()
    ok = bool((gap <= atol + rtol * want.abs()).all())
    if not ok:
        i = int(gap.flatten().argmax())
        at = (
            f" at index {tuple(int(j) for j in torch.unravel_index(torch.tensor(i), want.shape))}"
            if want.dim()
            else ""
        )
        raise ExerciseError(
            f"{what}: expected {want.flatten()[i].item():.6g}, got {got.flatten()[i].item():.6g}{at} "
            f"(tolerance {atol:g} + {rtol:g} x |expected|)"
        )


SLUGS = (
    "basics",
    "gumbel",
    "thresholds",
    "relief",
    "neurons",
    "head_to_head",
)  # one check module per notebook


def __getattr__(name: str):
    if name in SLUGS:  # pl.exercises.basics and friends load on first use
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def solution(slug: str, name: str):
    """The reference answer `name` from notebooks/solutions/<slug>.py (what CI fills the stubs with)."""
    path = ROOT / "notebooks" / "solutions" / f"{slug}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no reference answers at {path}: run the notebook with solutions=False")
    spec = importlib.util.spec_from_file_location(f"solutions_{slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise AttributeError(f"{path.name} has no reference answer named {name!r}")
    return getattr(module, name)
