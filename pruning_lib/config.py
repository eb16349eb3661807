"""Paths, profiles and the per-notebook `Run`: parameter checks, seeding, timings and atomic outputs."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILES = ("smoke", "quick", "paper")
DEVICES = ("auto", "cpu", "cuda", "mps")
ROOT = Path(os.environ.get("PRUNING_ROOT", Path(__file__).resolve().parents[1]))


def data_dir() -> Path:
    """Folder holding the datasets (`PRUNING_DATA`, default `data/` at the repository root)."""
    return Path(os.environ.get("PRUNING_DATA", ROOT / "data"))


def cache_dir() -> Path:
    """Folder holding cached models and runs (`PRUNING_CACHE`, default `cache/` at the repository root)."""
    return Path(os.environ.get("PRUNING_CACHE", ROOT / "cache"))


def output_dir(slug: str, profile: str) -> Path:
    """`figures/<slug>` for quick and paper; smoke writes under `build/smoke/<slug>` so CI never touches figures."""
    if profile == "smoke":
        return Path(os.environ.get("PRUNING_BUILD", ROOT / "build")) / "smoke" / slug
    return ROOT / "figures" / slug


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """Return `value` if it is one of `choices`, else raise ValueError naming the valid ones."""
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; choose one of {', '.join(map(repr, choices))}")
    return value


def check_range(name: str, value: Any, lo: float | None = None, hi: float | None = None, integer=False):
    """Return `value` if it is a number within [lo, hi] (an int when `integer`), else raise ValueError."""
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{name}={value!r} must be {'an integer' if integer else 'a number'}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}={value!r} must lie in [{lo}, {hi}]")
    return value


def resolve_profile(profile: str, table: Mapping[str, Mapping[str, Any]]) -> dict:
    """Pick `table[profile]`, checking the name and that every profile defines the same settings."""
    check_choice("profile", profile, tuple(p for p in PROFILES if p in table))
    keys = {p: set(v) for p, v in table.items()}
    first = next(iter(keys.values()))
    bad = {p: sorted(k ^ first) for p, k in keys.items() if k != first}
    if bad:
        raise ValueError(f"profile table is inconsistent: settings differ between profiles: {bad}")
    return dict(table[profile])


def library_versions() -> dict:
    """Versions of Python and the libraries that decide the numbers."""
    import numpy
    import torch
    import torchvision

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
    }


def git_commit() -> str | None:
    """The repository's HEAD commit, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def atomic_write_text(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file and a rename, so no reader sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


@dataclass
class Run:
    """One notebook run: resolved settings, seed, device, output folder and wall-clock timings."""

    slug: str
    profile: str
    seed: int
    device: Any
    settings: dict
    out_dir: Path
    timings: dict = field(default_factory=dict)
    cache_hits: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    @property
    def writes_figures(self) -> bool:
        """True when this run's outputs are the committed figures (quick, paper)."""
        return self.profile != "smoke"

    @contextmanager
    def timed(self, name: str):
        """Time a block and record its wall-clock seconds under `name`."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(time.perf_counter() - t0, 2)

    def cached(self, name: str, kind: str, config: dict, compute):
        """`pl.cache.cached`, recording under `name` whether it was a hit (results.json lists them)."""
        from .cache import cached

        payload, hit = cached(kind, config, compute)
        self.cache_hits[name] = hit
        return payload, hit

    def save_figure(self, fig, name: str) -> Path:
        """Save `fig` as `<out_dir>/<name>.png` atomically and return the path."""
        from .plotting import save_figure

        return save_figure(fig, self.out_dir / f"{name}.png")

    def write_results(self, results: Mapping[str, Any]) -> Path:
        """Write results.json (with profile, seed, device, versions and timings) atomically."""
        self.timings["total"] = round(time.perf_counter() - self.started, 2)
        doc = {
            "slug": self.slug,
            "profile": self.profile,
            "seed": self.seed,
            "device": str(self.device),
            "versions": library_versions(),
            "commit": git_commit(),
            "settings": self.settings,
            **results,
            "timings_s": {**dict(results.get("timings_s", {})), **self.timings},
            "cache_hits": self.cache_hits,
        }
        text = json.dumps(finite(doc), indent=2, default=_json_default, allow_nan=False)
        return atomic_write_text(self.out_dir / "results.json", text + "\n")


def finite(obj: Any) -> Any:
    """Recursively replace NaN and infinities by None (JSON has no such numbers), tensors by lists."""
    if hasattr(obj, "tolist") and not isinstance(obj, str):
        obj = obj.tolist()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


def _json_default(obj: Any):
    """JSON encoding for tensors, numpy scalars, paths and tuples in results."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | tuple):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to results.json")


def setup_run(
    slug: str, profile: str, table: Mapping[str, Mapping[str, Any]], *, seed: int = 0, device: str = "auto"
) -> Run:
    """Check the notebook parameters, seed everything, pick the device and return the `Run`."""
    from .plotting import set_style
    from .train import pick_device, seed_everything

    settings = resolve_profile(profile, table)
    check_range("seed", seed, 0, 2**32 - 1, integer=True)
    check_choice("device", device, DEVICES)
    dev = pick_device(device)
    seed_everything(seed)
    set_style()
    run = Run(
        slug=slug,
        profile=profile,
        seed=seed,
        device=dev,
        settings=settings,
        out_dir=output_dir(slug, profile),
    )
    run.out_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"{slug}: profile={profile} seed={seed} device={dev} -> outputs in {relpath(run.out_dir)}",
        file=sys.stdout,
    )
    return run


def relpath(path: Path) -> str:
    """Path relative to the repository root when possible (for messages)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT.resolve()))
    except ValueError:
        return str(path)
