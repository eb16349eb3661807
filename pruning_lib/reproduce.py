"""`python -m pruning_lib.reproduce`: run the notebooks with Papermill, then rebuild the README results table.

quick and paper runs replace the notebooks in place (only once a run has finished: a failed or interrupted run
leaves the committed notebook untouched and its partial output under build/notebooks/); smoke runs go to
build/notebooks/ only. Papermill's injected-parameters cell is tagged `nbval-skip`, so that nbval, which runs
the stored notebook under PRUNING_PROFILE=smoke, is not overridden by the profile the notebook was run with.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .checks import PROFILES, check_choice
from .paths import ROOT

NOTEBOOKS = ROOT / "notebooks"
BUILD = Path(os.environ.get("PRUNING_BUILD", ROOT / "build")) / "notebooks"


def select_notebooks(which: str | None = None) -> list[Path]:
    """All notebooks in order, or those whose name starts with `which` (e.g. '01' or '01_gumbel')."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in found if which is None or p.name.startswith(which)]
    if not chosen:
        names = ", ".join(p.stem for p in found)
        raise ValueError(f"NOTEBOOK={which!r} matches no notebook; choose a prefix of: {names}")
    return chosen


def tag_injected_cell(path: Path) -> None:
    """Add the `nbval-skip` tag to Papermill's injected-parameters cell."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "nbval-skip" not in tags:
            tags.append("nbval-skip")
    nbformat.write(nb, path)


def run_notebook(nb: Path, profile: str) -> float:
    """Execute one notebook with Papermill; replace it (or write build/ for smoke) only on success."""
    import papermill

    BUILD.mkdir(parents=True, exist_ok=True)
    tmp = BUILD / f"{nb.stem}.running.ipynb"
    final = nb if profile != "smoke" else BUILD / nb.name
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(nb),
            str(tmp),
            parameters={"profile": profile},
            cwd=str(nb.parent),
            kernel_name="python3",
            progress_bar=True,
            request_save_on_cell_execute=True,
        )
    except BaseException:
        if tmp.exists():
            os.replace(tmp, BUILD / f"{nb.stem}.failed.ipynb")
        raise
    tag_injected_cell(tmp)
    os.replace(tmp, final)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Run the selected notebooks in one profile; returns the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--notebook", default=None, help="run only notebooks whose name starts with this")
    args = ap.parse_args(argv)
    try:
        check_choice("profile", args.profile, PROFILES)
        chosen = select_notebooks(args.notebook)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed, times = [], {}
    for nb in chosen:
        print(f"==> {nb.name} (profile {args.profile})", flush=True)
        try:
            times[nb.name] = run_notebook(nb, args.profile)
            print(f"    done in {times[nb.name]:.0f} s", flush=True)
        except Exception as e:  # keep going; report every failure at the end
            failed.append(nb.name)
            print(
                f"    FAILED: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}\n"
                f"    partial output: {BUILD / (nb.stem + '.failed.ipynb')}",
                file=sys.stderr,
                flush=True,
            )
    if args.profile != "smoke":
        from .report import update_readme

        update_readme()
    for name, secs in times.items():
        print(f"{name:45s} {secs:7.0f} s")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
