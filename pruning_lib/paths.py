"""Where things live: the repository root, data, cache, build and figure folders (a leaf: imports nothing of ours)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("PRUNING_ROOT", Path(__file__).resolve().parents[1]))


def data_dir() -> Path:
    """Folder holding the datasets (`PRUNING_DATA`, default `data/` at the repository root)."""
    return Path(os.environ.get("PRUNING_DATA", ROOT / "data"))


def cache_dir() -> Path:
    """Folder holding cached models and runs (`PRUNING_CACHE`, default `cache/` at the repository root)."""
    return Path(os.environ.get("PRUNING_CACHE", ROOT / "cache"))


def build_dir() -> Path:
    """Folder for smoke outputs, staging and executed notebooks (`PRUNING_BUILD`, default `build/`)."""
    return Path(os.environ.get("PRUNING_BUILD", ROOT / "build"))


def output_dir(slug: str, profile: str) -> Path:
    """`figures/<slug>` for quick, `figures/<slug>/paper` for paper; smoke writes under `build/smoke/<slug>`."""
    if profile == "smoke":
        return build_dir() / "smoke" / slug
    return ROOT / "figures" / slug / ("paper" if profile == "paper" else "")


def relpath(path: Path) -> str:
    """Path relative to the repository root when possible (for messages)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT.resolve()))
    except ValueError:
        return str(path)
