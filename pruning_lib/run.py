"""The per-notebook `Run`: checked parameters, seeding, device, timings, and outputs staged until the run finishes.

A run writes its figures and results.json into a staging folder under `build/staging/`; `write_results` (the
notebook's last call) writes results.json there and only then replaces the run's output folder
(`figures/<slug>/`, `figures/<slug>/paper/` or `build/smoke/<slug>/`), so an interrupted run leaves the old
outputs whole.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import cached
from .checks import DEVICES, check_choice, check_range, resolve_profile
from .files import write_json
from .paths import ROOT, build_dir, output_dir, relpath
from .plotting import save_figure, set_style
from .report import check_headline
from .timings import cpu_model
from .train import pick_device, seed_everything


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
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # the vector kernels torch picked (AVX2, AVX512)
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def staging_dir(slug: str, profile: str) -> Path:
    """A fresh staging folder for this process; stale ones of dead processes for the same run are removed."""
    root = build_dir() / "staging"
    stem = f"{slug}.{profile}"
    for old in root.glob(f"{stem}.*"):
        pid = old.suffix.lstrip(".")
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    path = root / f"{stem}.{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def publish(staging: Path, target: Path, keep: Iterable[str] = ("paper",)) -> Path:
    """Replace `target` by `staging` (two renames); subfolders named in `keep` move over from the old target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for name in keep:
        if (target / name).is_dir() and not (staging / name).exists():
            os.replace(target / name, staging / name)
    trash = target.with_name(f".{target.name}.{os.getpid()}.old")
    if target.exists():
        os.replace(target, trash)
    os.replace(staging, target)
    shutil.rmtree(trash, ignore_errors=True)
    return target


@dataclass
class Run:
    """One notebook run: resolved settings, seed, device, staging and output folders, wall-clock timings."""

    slug: str
    profile: str
    seed: int
    device: Any
    settings: dict
    out_dir: Path  # the staging folder every figure is written to while the run is in progress
    final_dir: Path  # where the outputs go once the run has finished
    params: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    cache_hits: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
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

    def plan(self, name: str, tasks: list, jobs: int = 0) -> dict:
        """Run a plan of `pl.jobs` tasks (jobs=0: one worker per core), timed under `name`; returns its record.

        Prints the plan's size and estimated cost first; results.json lists every plan (tasks, computed, jobs).
        """
        from .jobs import auto_jobs, describe, run_tasks

        jobs = auto_jobs(jobs, self.device)
        print(f"plan {name!r}: {describe(tasks, jobs, self.device)}")
        with self.timed(f"plan_{name}"):
            ran = run_tasks(tasks, jobs=jobs)
        quick = sum(v < 1.0 for v in ran.values())  # a task whose results are all cached takes well under 1 s
        self.plans[name] = {"tasks": len(tasks), "under_1s": quick, "jobs": jobs,
                            "seconds": self.timings[f"plan_{name}"], "task_seconds": ran}  # fmt: skip
        print(f"plan {name!r}: {len(ran)} tasks in {self.timings[f'plan_{name}']:.0f} s with {jobs} job(s), "
              f"{quick} of them under a second (cached, or that quick to compute); the cells below read the cache")  # fmt: skip
        return self.plans[name]

    def cached(self, name: str, kind: str, config: dict, compute, version: int = 1):
        """`pl.cache.cached`, recording under `name` whether it was a hit (results.json lists them)."""
        payload, hit = cached(kind, config, compute, version=version)
        self.cache_hits[name] = hit
        return payload, hit

    def save_figure(self, fig, name: str) -> Path:
        """Save `fig` as `<staging>/<name>.png` atomically and return the path."""
        return save_figure(fig, self.out_dir / f"{name}.png")

    def write_results(self, results: Mapping[str, Any], figures: Iterable[str] = ()) -> Path:
        """Check the named figures exist, write results.json, then publish the outputs; returns results.json."""
        missing = sorted(f for f in figures if not (self.out_dir / f"{f}.png").is_file())
        if missing:
            raise RuntimeError(
                f"figures not written: {missing}; the outputs in {relpath(self.final_dir)} are kept"
            )
        check_headline(list(results.get("headline", [])))
        self.timings["total"] = round(time.perf_counter() - self.started, 2)
        doc = {
            "slug": self.slug,
            "profile": self.profile,
            "seed": self.seed,
            "device": str(self.device),
            "versions": library_versions(),
            "commit": git_commit(),
            "params": self.params,
            "settings": self.settings,
            **results,
            "timings_s": {**dict(results.get("timings_s", {})), **self.timings},
            "cache_hits": self.cache_hits,
            "plans": self.plans,
        }
        write_json(self.out_dir / "results.json", doc)
        publish(self.out_dir, self.final_dir)
        self.out_dir = self.final_dir
        return self.final_dir / "results.json"


def setup_run(
    slug: str,
    profile: str,
    table: Mapping[str, Mapping[str, Any]],
    *,
    seed: int = 0,
    device: str = "auto",
    params: Mapping[str, Any] | None = None,
) -> Run:
    """Check the notebook parameters, seed everything, pick the device and return the `Run`.

    `params` are the notebook's other knobs, already checked: they are recorded in results.json.
    """
    settings = resolve_profile(profile, table)
    check_range("seed", seed, 0, 2**32 - 1, integer=True)
    check_choice("device", device, DEVICES)
    dev = pick_device(device)
    seed_everything(seed)
    set_style()
    final = output_dir(slug, profile)
    run = Run(
        slug=slug,
        profile=profile,
        seed=seed,
        device=dev,
        settings=settings,
        out_dir=staging_dir(slug, profile),
        final_dir=final,
        params={"profile": profile, "seed": seed, "device": device, **dict(params or {})},
    )
    print(
        f"{slug}: profile={profile} seed={seed} device={dev} -> outputs in {relpath(final)}", file=sys.stdout
    )
    return run
