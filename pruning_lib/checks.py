"""Parameter checks that fail early with a message naming the valid values (a leaf: imports nothing of ours)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

PROFILES = ("smoke", "quick", "paper")
DEVICES = ("auto", "cpu", "cuda", "mps")


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """Return `value` if it is one of `choices`, else raise ValueError naming the valid ones."""
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; choose one of {', '.join(map(repr, choices))}")
    return value


def check_range(name: str, value: Any, lo: float | None = None, hi: float | None = None, integer=False):
    """Return `value` if it is a finite number within [lo, hi] (an int when `integer`), else raise ValueError."""
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{name}={value!r} must be {'an integer' if integer else 'a number'}")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r} must lie in [{lo}, {hi}]")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return `value` if it is True or False (not 1, 0 or a string), else raise ValueError."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} must be True or False")
    return value


def check_numbers(name: str, values, lo: float | None = None, hi: float | None = None, integer=False) -> list:
    """Return `values` as a list if it is a non-empty sequence of valid numbers (see `check_range`)."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name}={values!r} must be a list of numbers")
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    for i, v in enumerate(values):
        check_range(f"{name}[{i}]", v, lo, hi, integer)
    return values


def resolve_profile(profile: str, table: Mapping[str, Mapping[str, Any]]) -> dict:
    """Pick `table[profile]`, checking the name and that every profile defines the same settings."""
    check_choice("profile", profile, tuple(p for p in PROFILES if p in table))
    keys = {p: set(v) for p, v in table.items()}
    first = next(iter(keys.values()))
    bad = {p: sorted(k ^ first) for p, k in keys.items() if k != first}
    if bad:
        raise ValueError(f"profile table is inconsistent: settings differ between profiles: {bad}")
    return dict(table[profile])
