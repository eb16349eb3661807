"""`python -m pruning_lib.reproduce`: run the notebooks with Papermill, then rebuild the README results table.

quick runs replace the notebooks in place, only once a run has finished: a failed or interrupted run leaves the
committed notebook (and, through the run layer's staging, its figures) untouched, and its partial output under
build/notebooks/. paper runs write the executed notebook beside their figures, `figures/<slug>/paper/`, and
never touch the committed (quick) notebook; smoke runs go to build/notebooks/ only. Parameter names are checked
against the notebook's parameters cell before anything runs. Papermill's injected-parameters cell is tagged
`nbval-skip`, so that nbval, which runs the stored notebook under PRUNING_PROFILE=smoke, is not overridden by
the profile the notebook was run with.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from .checks import PROFILES, check_choice
from .files import temp_path
from .paths import ROOT, build_dir, cache_dir, output_dir, relpath
from .readme import update_readme
from .timings import record, record_command

NOTEBOOKS = ROOT / "notebooks"


def select_notebooks(which: str | None = None) -> list[Path]:
    """All notebooks in order, or those whose name starts with `which` (e.g. '01' or '01_gumbel')."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in found if which is None or p.name.startswith(which)]
    if not chosen:
        names = ", ".join(p.stem for p in found)
        raise ValueError(f"NOTEBOOK={which!r} matches no notebook; choose a prefix of: {names}")
    return chosen


def notebook_parameters(nb: Path) -> list[str]:
    """The names assigned in the notebook's cell tagged `parameters`."""
    cells = nbformat.read(nb, as_version=4).cells
    src = next((c.source for c in cells if "parameters" in c.metadata.get("tags", [])), None)
    if src is None:
        raise ValueError(f"{nb.name} has no cell tagged 'parameters'")
    tree = ast.parse(src)
    return [
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    ]


def check_parameters(nb: Path, params: dict) -> None:
    """Raise ValueError naming each parameter the notebook does not have (with the closest valid name)."""
    known = notebook_parameters(nb)
    bad = [k for k in params if k not in known]
    if bad:
        hints = [
            f"{k!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, known, 1)) else "")
            for k in bad
        ]
        raise ValueError(f"{nb.name} has no parameter {', '.join(hints)}; its parameters: {', '.join(known)}")


def parse_param(text: str) -> tuple[str, object]:
    """'name=value' -> (name, value): the value as a Python literal, else a float (nan, inf), else a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise ValueError(f"--param {text!r}: write it as name=value")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    try:
        return name, float(value)  # nan, inf: numbers the notebook's checks then reject by name
    except ValueError:
        return name, value


def tag_injected_cell(path: Path) -> None:
    """Add the `nbval-skip` tag to Papermill's injected-parameters cell."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "nbval-skip" not in tags:
            tags.append("nbval-skip")
    nbformat.write(nb, path)


PROGRESS_BAR = re.compile(r"\d+%\|.*\|.*\[.*\]")  # a tqdm bar: "desc:  40%|####  | 4/10 [00:01<00:02, ...]"
CURSOR = re.compile(r"(\x1b\[[0-9;]*[A-Za-z])+\s*")  # a line of cursor moves only (tqdm's nested bars)


def strip_progress_bars(path: Path) -> None:
    """Drop tqdm progress-bar lines from the notebook's stderr outputs (live progress, clutter once committed)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = re.split(r"(?<=\n)|\r", out["text"])
                out["text"] = "".join(
                    line for line in lines if not PROGRESS_BAR.search(line) and not CURSOR.fullmatch(line)
                )
                if not out["text"].strip():
                    continue
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept
    nbformat.write(nb, path)


def write_twin(nb: Path) -> Path:
    """Rewrite the notebook's py:percent twin (`<name>.py`, kept in sync for readable diffs) with jupytext."""
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--to", "py:percent", str(nb)], check=True)
    return nb.with_suffix(".py")


SETUP_RUN = re.compile(r"""pl\.setup_run\(\s*["']([a-z0-9_]+)["']""")


def notebook_slug(nb: Path) -> str:
    """The slug the notebook passes to `pl.setup_run("<slug>", ...)` (its figures/<slug>/ folder)."""
    cells = nbformat.read(nb, as_version=4).cells
    found = {m for c in cells if c.cell_type == "code" for m in SETUP_RUN.findall(c.source)}
    if len(found) != 1:
        raise ValueError(f'{nb.name}: expected one pl.setup_run("<slug>", ...) call, found {sorted(found)}')
    return found.pop()


def executed_path(nb: Path, profile: str) -> Path:
    """Where a finished run's notebook goes: in place (quick), figures/<slug>/paper/ (paper), build/ (smoke)."""
    if profile == "smoke":
        return build_dir() / "notebooks" / nb.name
    if profile == "paper":
        return output_dir(notebook_slug(nb), "paper") / nb.name
    return nb


def run_notebook(nb: Path, profile: str, params: dict | None = None) -> float:
    """Execute one notebook with Papermill; write it where `executed_path` says, only on success."""
    import papermill

    out = build_dir() / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out / nb.stem, ".running.ipynb")  # unique per process: concurrent runs never share it
    failed = out / f"{nb.stem}.failed.ipynb"
    final = executed_path(nb, profile)  # resolved before the run: a notebook without a slug fails fast
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(nb),
            str(tmp),
            parameters={"profile": profile, **(params or {})},
            cwd=str(nb.parent),
            kernel_name="python3",
            progress_bar=sys.stderr.isatty(),
            request_save_on_cell_execute=True,
        )
        tag_injected_cell(tmp)
        strip_progress_bars(tmp)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        if final == nb:
            write_twin(nb)
    except BaseException:
        if tmp.exists():
            os.replace(tmp, failed)
        raise
    failed.unlink(missing_ok=True)  # a stale failure goes once the rerun succeeds
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    """Run the selected notebooks in one profile; returns the process exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--notebook", default=None, help="run only notebooks whose name starts with this")
    ap.add_argument(
        "--param", action="append", default=[], help="name=value, a notebook parameter (repeatable)"
    )
    args = ap.parse_args(argv)
    try:
        check_choice("profile", args.profile, PROFILES)
        chosen = select_notebooks(args.notebook)
        params = dict(parse_param(p) for p in args.param)
        for nb in chosen:
            check_parameters(nb, params)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed, times = [], {}
    cold = not cache_dir().is_dir() or not any(cache_dir().iterdir())  # empty cache when this run began
    try:
        for nb in chosen:
            print(f"==> {nb.name} (profile {args.profile})", flush=True)
            try:
                times[nb.name] = run_notebook(nb, args.profile, params)
                print(f"    done in {times[nb.name]:.0f} s", flush=True)
                if not params:  # the notebooks' own settings: what a reader's run costs
                    record(nb.stem, args.profile, times[nb.name], cold)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # keep going; report every failure at the end
                failed.append(nb.name)
                last = str(e).strip().splitlines()[-1] if str(e).strip() else ""
                print(
                    f"    FAILED: {type(e).__name__}: {last}\n"
                    f"    partial output: {relpath(build_dir() / 'notebooks' / (nb.stem + '.failed.ipynb'))}",
                    file=sys.stderr,
                    flush=True,
                )
    except KeyboardInterrupt:
        kept = ", ".join(times) or "none"
        print(
            f"\ninterrupted: finished notebooks kept ({kept}); the interrupted one's notebook and figures are "
            "unchanged; finished experiments stay in cache/, so a rerun resumes from there",
            file=sys.stderr,
        )
        return 130
    finally:
        whole = args.notebook is None and not params and len(times) == len(chosen)  # a failed one has no time
        if whole and args.profile != "smoke":  # every notebook in one run: what `make reproduce` costs
            record_command(f"reproduce_{args.profile}", sum(times.values()), cold=cold)
        if args.profile != "smoke" and times:
            update_readme()
    for name, secs in times.items():
        print(f"{name:45s} {secs:7.0f} s")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
