"""How long each notebook takes: run times recorded by `make reproduce`, and each notebook's opening summary.

`record` keeps, per notebook and profile, the last run from an empty cache ("cold": everything trained) and the
last run with a warm cache, in `figures/run_times.json`, with the machine's CPU count and model (the same code
trains to slightly different numbers on another CPU, whose kernels round differently). `about` prints a
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
from .paths import ROOT, data_dir

RUN_TIMES = ROOT / "figures" / "run_times.json"
WORDS_PER_MINUTE = 200


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what `platform` knows, else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_run_times(path: Path = RUN_TIMES) -> dict:
    """{notebook stem: {profile: {"cold" | "warm": {seconds, cpus, machine, date}}}} ({} before any run)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def record(stem: str, profile: str, seconds: float, cold: bool, path: Path = RUN_TIMES) -> dict:
    """Store one finished run of notebook `stem` (cold: it started from an empty cache); returns the entry."""
    doc = load_run_times(path)
    entry = {
        "seconds": round(float(seconds), 1),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "date": time.strftime("%Y-%m-%d"),
    }
    doc.setdefault(stem, {}).setdefault(profile, {})["cold" if cold else "warm"] = entry
    write_json(path, doc)
    return entry


def folder_bytes(path: Path) -> int:
    """Total size of the files under `path` (0 when it does not exist; symlinks are not followed)."""
    path = Path(path)
    if not path.is_dir():
        return 0
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def record_command(name: str, seconds: float, path: Path = RUN_TIMES, **extra) -> dict:
    """Store how long one make command took (e.g. 'test'), with the sizes of .venv and data/ on disk."""
    doc = load_run_times(path)
    entry = {
        "seconds": round(float(seconds), 1),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "date": time.strftime("%Y-%m-%d"),
        "venv_bytes": folder_bytes(ROOT / ".venv"),
        "data_bytes": folder_bytes(data_dir()),
        **extra,
    }
    doc.setdefault("_commands", {})[name] = entry
    write_json(path, doc)
    return entry


def reading_minutes(nb: Path) -> int:
    """Minutes to read a notebook's markdown cells at WORDS_PER_MINUTE (at least 1)."""
    cells = nbformat.read(nb, as_version=4).cells
    words = sum(len(c.source.split()) for c in cells if c.cell_type == "markdown")
    return max(1, round(words / WORDS_PER_MINUTE))


def duration(seconds: float) -> str:
    """'45 s', '7.5 min' or '1.2 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def run_summary(stem: str, path: Path = RUN_TIMES) -> str:
    """One paragraph: reading time, and each profile's measured run times (or that none was measured)."""
    nb = ROOT / "notebooks" / f"{stem}.ipynb"
    lines = [f"Reading time: about {reading_minutes(nb)} min."]
    runs = load_run_times(path).get(stem, {})
    for profile in ("smoke", "quick", "paper"):
        got = runs.get(profile, {})
        parts = [
            f"{duration(got[state]['seconds'])} {label} ({got[state]['cpus']} CPU cores, {got[state]['date']})"
            for state, label in (("cold", "from an empty cache"), ("warm", "with the cache warm"))
            if state in got
        ]
        lines.append(
            f"Run time, {profile}: {'; '.join(parts) if parts else 'not measured on this machine yet'}."
        )
    return "\n".join(lines)


def about(stem: str) -> None:
    """Print `run_summary(stem)` (a notebook's opening cell calls this)."""
    print(run_summary(stem))


def main(argv: list[str] | None = None) -> None:
    """`python -m pruning_lib.timings command NAME SECONDS`: record a make command's wall time (the Makefile)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] != "command":
        raise SystemExit("usage: python -m pruning_lib.timings command NAME SECONDS")
    entry = record_command(args[1], float(args[2]))
    print(f"make {args[1]}: {duration(entry['seconds'])} (recorded in {RUN_TIMES.name})")


if __name__ == "__main__":
    main()
