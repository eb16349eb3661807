"""How long each notebook takes: run times recorded by `make reproduce`, and each notebook's opening summary.

`record` keeps, per notebook and profile, the last run from an empty cache ("cold": everything trained) and the
last run with a warm cache, in `figures/run_times.json`, with the machine's CPU count. `about` prints a
notebook's reading time (its prose at 200 words a minute) beside those measured run times.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import nbformat

from .files import write_json
from .paths import ROOT

RUN_TIMES = ROOT / "figures" / "run_times.json"
WORDS_PER_MINUTE = 200


def load(path: Path = RUN_TIMES) -> dict:
    """{notebook stem: {profile: {"cold" | "warm": {seconds, cpus, machine, date}}}} ({} before any run)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def record(stem: str, profile: str, seconds: float, cold: bool, path: Path = RUN_TIMES) -> dict:
    """Store one finished run of notebook `stem` (cold: it started from an empty cache); returns the entry."""
    doc = load(path)
    entry = {
        "seconds": round(float(seconds), 1),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    doc.setdefault(stem, {}).setdefault(profile, {})["cold" if cold else "warm"] = entry
    write_json(path, doc)
    return entry


def reading_minutes(nb: Path) -> int:
    """Minutes to read a notebook's markdown cells at WORDS_PER_MINUTE (at least 1)."""
    cells = nbformat.read(nb, as_version=4).cells
    words = sum(len(c.source.split()) for c in cells if c.cell_type == "markdown")
    return max(1, round(words / WORDS_PER_MINUTE))


def _duration(seconds: float) -> str:
    """'45 s', '7.5 min' or '1.2 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def summary(stem: str, path: Path = RUN_TIMES) -> str:
    """One paragraph: reading time, and each profile's measured run times (or that none was measured)."""
    nb = ROOT / "notebooks" / f"{stem}.ipynb"
    lines = [f"Reading time: about {reading_minutes(nb)} min."]
    runs = load(path).get(stem, {})
    for profile in ("smoke", "quick", "paper"):
        got = runs.get(profile, {})
        parts = [
            f"{_duration(got[state]['seconds'])} {label} ({got[state]['cpus']} CPU cores, {got[state]['date']})"
            for state, label in (("cold", "from an empty cache"), ("warm", "with the cache warm"))
            if state in got
        ]
        lines.append(
            f"Run time, {profile}: {'; '.join(parts) if parts else 'not measured on this machine yet'}."
        )
    return "\n".join(lines)


def about(stem: str) -> None:
    """Print `summary(stem)` (a notebook's opening cell calls this)."""
    print(summary(stem))
