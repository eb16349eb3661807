"""The README's generated sections: findings, measured run times and the results tables (`make readme`).

Each section sits between `<!-- name:start -->` and `<!-- name:end -->` markers and is rebuilt from what the
runs wrote (`figures/*/results.json`, the paper runs' `figures/*/paper/results.json`, `figures/run_times.json`),
so every number in it was measured; the prose around the markers is written by hand. A rerun with the same
numbers leaves README.md unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import timings
from .files import write_text
from .paths import ROOT
from .report import fmt, fmt_interval, verdict

NOTEBOOK_ORDER = ["basics", "gumbel", "thresholds", "relief", "neurons", "head_to_head"]
TITLES = {
    "basics": "Han et al. 2015 (baseline, 00)",
    "gumbel": "Gumbel-softmax gates, Zhang et al. 2023 (01)",
    "thresholds": "Differentiable thresholds, Manessi et al. 2018 (02)",
    "relief": "NNrelief, Dekhovich et al. 2024 (03)",
    "neurons": "Neuron removal, Wolfe et al. 2017 (04)",
    "head_to_head": "Head-to-head (05)",
}
RESULTS = "results"
# one lecture per notebook: what it teaches (the course guide's column)
LECTURES = {
    "00_pruning_basics": "what pruning is: masks, sparsity, compression, FLOPs; magnitude pruning and retraining",
    "01_gumbel_softmax_pruning": "learning the topology by gradient descent: Gumbel-softmax gates, straight-through",
    "02_differentiable_thresholds": "learnable per-layer thresholds and a pruning regulariser",
    "03_neural_network_relief": "importance from neural activity; iterative prune-and-retrain",
    "04_neuron_pruning": "structured pruning: removing whole neurons, brute force vs Taylor estimates",
    "05_head_to_head": "comparing methods fairly: budgets, frontiers, intervals, measured speedups",
}
COLAB = "https://colab.research.google.com/github/{repo}/blob/main/notebooks/{stem}.ipynb"


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the README section `name`."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def collect(figures: Path | None = None) -> list[dict]:
    """Every figures/<slug>/results.json, in notebook order."""
    figures = Path(figures or ROOT / "figures")
    docs = [json.loads(p.read_text()) for p in sorted(figures.glob("*/results.json"))]
    order = {slug: i for i, slug in enumerate(NOTEBOOK_ORDER)}
    return sorted(docs, key=lambda d: order.get(d.get("slug"), len(order)))


def collect_paper(figures: Path | None = None) -> dict[str, dict]:
    """{slug: results} of every paper-profile run, figures/<slug>/paper/results.json, in slug order."""
    figures = Path(figures or ROOT / "figures")
    docs = [json.loads(p.read_text()) for p in sorted(figures.glob("*/paper/results.json"))]
    return {d["slug"]: d for d in docs}


def paper_cell(paper: dict | None, row: dict) -> str:
    """The paper-profile run's measured value and verdict for the row with the same id, else '–'."""
    match = [
        r for r in (paper or {}).get("headline", []) if r.get("id") == row.get("id") and not r.get("volatile")
    ]
    if not match:
        return "–"
    r = match[0]
    return fmt(r["measured"], r["unit"]) + ("" if verdict(r) == "–" else f" ({verdict(r)})")


def paper_params(paper: dict, quick: dict | None) -> str:
    """'name=value, ...': the paper run's parameters (profile aside) that differ from the quick run's, if any."""
    base = (quick or {}).get("params", {})
    return ", ".join(
        f"{k}={v}"
        for k, v in paper.get("params", {}).items()
        if k != "profile" and (k not in base or base[k] != v)
    )


def paper_note(papers: dict[str, dict], docs: list[dict]) -> str:
    """One line under the tables: which paper-profile runs exist and the parameters each ran with."""
    if not papers:
        return ("_Paper profile: no run yet; the column fills in from `figures/<slug>/paper/results.json` "
                "(`make reproduce PROFILE=paper`)._")  # fmt: skip
    quick = {d["slug"]: d for d in docs}
    order = {slug: i for i, slug in enumerate(NOTEBOOK_ORDER)}
    runs = []
    for slug in sorted(papers, key=lambda k: (order.get(k, len(order)), k)):
        params = paper_params(papers[slug], quick.get(slug))
        runs.append(f"`{slug}`" + (f" ({params})" if params else " (the quick run's parameters)"))
    return f"_Paper profile (`figures/<slug>/paper/`): runs of {', '.join(runs)}; `–` where none ran._"


def _rows(docs: list[dict]):
    """(doc, row) for every non-volatile headline row."""
    return [(d, r) for d in docs for r in d.get("headline", []) if not r.get("volatile")]


def seeds_of(doc: dict, row: dict):
    """How many seeds a row pools: its own `seeds`, else the run's seed list for the row's network, else '–'."""
    if row.get("seeds"):
        return row["seeds"]
    seeds = doc.get("seeds")
    if isinstance(seeds, list):
        return len(seeds)
    if isinstance(seeds, dict):
        keys = [k for k in seeds if row["id"].startswith(f"{k}_")]
        if keys:
            return len(seeds[max(keys, key=len)])
    return "–"


def _table(pairs, papers: dict[str, dict] | None = None) -> list[str]:
    """One markdown table of headline rows (notebook, id, quantity, paper, target, measured, seeds, interval,
    verdict, and the paper-profile run's measured value and verdict)."""
    papers = papers or {}
    lines = [
        "| notebook | id | quantity | paper | target | measured | seeds | 95% interval | verdict | paper profile |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d, r in pairs:
        cells = [
            f"`{d['slug']}` ({d['profile']})",
            f"`{r.get('id', '')}`",
            r["quantity"],
            fmt(r["paper"], r["unit"]),
            r["target"] or "–",
            fmt(r["measured"], r["unit"]),
            seeds_of(d, r),
            fmt_interval(r.get("interval"), r["unit"]),
            verdict(r),
            paper_cell(papers.get(d["slug"]), r),
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return lines


def results_markdown(docs: list[dict], papers: dict[str, dict] | None = None) -> str:
    """The results tables: the paper reproductions, then the head-to-head, with a paper-profile column and a
    note on the paper runs (deterministic, no timings)."""
    if not docs:
        return "_No results yet: run `make reproduce`._"
    pairs = _rows(docs)
    reproductions = [(d, r) for d, r in pairs if d["slug"] != "head_to_head"]
    h2h = [(d, r) for d, r in pairs if d["slug"] == "head_to_head"]
    out = ["### Paper reproductions", "", *_table(reproductions, papers)]
    if h2h:
        out += ["", "### Head-to-head", "", *_table(h2h, papers)]
    return "\n".join([*out, "", paper_note(papers or {}, docs)])


def _missed(rows: list[dict], limit: int = 3) -> str:
    """'; missed: quantity (measured m, target t), ...' for the first `limit` missed targets."""
    missed = [r for r in rows if r.get("met") is False]
    if not missed:
        return ""
    shown = [
        f"{r['quantity']} (measured {fmt(r['measured'], r['unit'])}, target {r['target']})" for r in missed
    ]
    more = f", and {len(missed) - limit} more" if len(missed) > limit else ""
    return "; missed: " + "; ".join(shown[:limit]) + more


def _speedup(doc: dict) -> str:
    """The best measured CPU speedup at batch 256 above the noise floor, among models within 1 pp of dense."""
    lat = [r for r in doc.get("latency", []) if r.get("batch") == 256 and "noise_floor" in r]
    if not lat:
        return ""
    dense = {}
    for key, info in doc.get("dense", {}).items():
        net = key.rsplit("_", 1)[0]
        dense[net] = max(dense.get(net, 0.0), info.get("test_acc", 0.0))
    real = [r for r in lat if r["representation"] != "dense with zeros" and r.get("verdict") == "faster"
            and r.get("test_acc", 0.0) >= dense.get(r["network"], 1.0) - 0.01]  # fmt: skip
    floor = ", ".join(f"{n} ±{100 * max(r['noise_floor'] for r in lat if r['network'] == n):.0f}%"
                      for n in dict.fromkeys(r["network"] for r in lat))  # fmt: skip
    if not real:
        return f"No model within 1 pp of dense accuracy is measurably faster at batch 256 (noise floor: {floor})."
    best = max(real, key=lambda r: r["speedup"])
    return (
        f"Best measured CPU speedup at batch 256 within 1 pp of dense accuracy: {best['speedup']:.1f}× "
        f"({best['method']}, {best['representation']}, {best['network']}, where FLOPs promise "
        f"{best['speedup_theoretical']:.0f}×), above the noise floor of the dense-with-zeros controls ({floor})."
    )


def findings_markdown(docs: list[dict]) -> str:
    """One bullet per notebook: targets met and missed; the head-to-head's winners; the measured speedup."""
    if not docs:
        return "_No results yet: run `make reproduce`._"
    out = []
    for d in docs:
        rows = [r for r in d.get("headline", []) if not r.get("volatile")]
        title = TITLES.get(d["slug"], d["slug"])
        if d["slug"] == "head_to_head":
            best = [r for r in rows if "_best_le_" in r["id"] and r["id"].startswith("lenet300_own")]
            wins = "; ".join(
                f"{r['quantity'].split('best at ')[-1]}: {r['measured']}% ({verdict(r)})" for r in best
            )
            if wins:
                out.append(f"- **{title}**, LeNet-300-100 at each method's own budget: {wins}.")
            if speed := _speedup(d):
                out.append(f"- **What pruning buys on a CPU**: {speed}")
            continue
        targets = [r for r in rows if r.get("met") is not None]
        met = sum(bool(r["met"]) for r in targets)
        out.append(f"- **{title}**: {met} of {len(targets)} targets met{_missed(targets)}.")
    return "\n".join(out)


def times_markdown(run_times: dict) -> str:
    """The measured cost of the two commands: make reproduce per notebook (empty cache), make test, disk sizes."""
    cold = {
        k: v["quick"]["cold"]
        for k, v in run_times.items()
        if not k.startswith("_") and "cold" in v.get("quick", {})
    }
    out = []
    if cold:
        total, dates = sum(e["seconds"] for e in cold.values()), [e["date"] for e in cold.values()]
        parts = " · ".join(f"{k[:2]} {timings.duration(e['seconds'])}" for k, e in sorted(cold.items()))
        cpus = sorted({e["cpus"] for e in cold.values()})
        whole = run_times.get("_commands", {}).get("reproduce_quick", {})
        if whole.get("cold") and abs(whole["seconds"] - total) < 1:  # these notebook times are that one run's
            how = f"of notebooks in one run from an empty cache on {whole.get('cpu', 'this CPU')}, {whole['date']}"
        else:
            how = (
                "the sum of each notebook's last run from an empty cache, measured "
                f"{' to '.join(sorted({min(dates), max(dates)}))}"
            )
        out.append(
            f"- `make reproduce` (quick, empty cache): {timings.duration(total)} on {'/'.join(map(str, cpus))} "
            f"CPU cores ({parts}: {how})."
        )
    test = run_times.get("_commands", {}).get("test")
    if test:
        out.append(
            f"- `make test` (after `make setup` and `make data`): {timings.duration(test['seconds'])} on {test['cpus']} CPU cores ({test['date']})."
        )
        out.append(
            f"- On disk: `.venv` {test['venv_bytes'] / 1e9:.1f} GB (PyPI's default torch wheel, with CUDA libraries), "
            f"MNIST {test['data_bytes'] / 1e6:.0f} MB."
        )
    return "\n".join(out) or "_Not measured yet: run `make reproduce` and `make test`._"


def repository() -> str:
    """'owner/name' of the public repository, from pyproject.toml's [project.urls] Repository."""
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'Repository\s*=\s*"https://github.com/([^"]+?)/?"', text)
    return match.group(1) if match else "OWNER/REPOSITORY"


def exercise_count(nb: Path) -> int:
    """Cells tagged `exercise` (one per self-checking exercise)."""
    cells = json.loads(nb.read_text())["cells"]
    return sum("exercise" in c.get("metadata", {}).get("tags", []) for c in cells)


def course_markdown(run_times: dict, notebooks: Path | None = None) -> str:
    """The course guide: per notebook its lecture, reading time, quick run time, exercises and a Colab link."""
    folder = Path(notebooks or ROOT / "notebooks")
    lines = [
        "| notebook | lecture | reading | run (quick, empty cache) | exercises | |",
        "|---|---|---|---|---|---|",
    ]
    for nb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        cold = run_times.get(nb.stem, {}).get("quick", {}).get("cold")
        badge = f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB.format(repo=repository(), stem=nb.stem)})"
        cells = [
            f"[`{nb.stem}`](notebooks/{nb.name})",
            LECTURES.get(nb.stem, ""),
            f"{timings.reading_minutes(nb)} min",
            timings.duration(cold["seconds"]) if cold else "not measured",
            exercise_count(nb),
            badge,
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def sections(figures: Path | None = None, run_times: Path | None = None) -> dict[str, str]:
    """{section name: generated markdown} for every generated README section."""
    docs, runs = collect(figures), timings.load_run_times(run_times or timings.RUN_TIMES)
    return {
        RESULTS: results_markdown(docs, collect_paper(figures)),
        "findings": findings_markdown(docs),
        "times": times_markdown(runs),
        "course": course_markdown(runs),
    }


def update_readme(
    readme: Path | None = None, figures: Path | None = None, run_times: Path | None = None
) -> bool:
    """Rewrite every generated section the README has (the results section must exist); True when it changed."""
    readme = Path(readme or ROOT / "README.md")
    text = new = readme.read_text()
    start, end = markers(RESULTS)
    if start not in text or end not in text:
        raise ValueError(f"{readme} has no {start} ... {end} section to fill")
    for name, body in sections(figures, run_times).items():
        start, end = markers(name)
        if start in new and end in new:
            new = re.sub(
                re.escape(start) + ".*?" + re.escape(end),
                lambda _, s=start, b=body, e=end: f"{s}\n{b}\n{e}",
                new,
                flags=re.S,
            )
    if new != text:
        write_text(readme, new)
    return new != text


def main() -> None:
    """`python -m pruning_lib.readme`: rebuild the README's generated sections."""
    print("README", "updated" if update_readme() else "unchanged")


if __name__ == "__main__":
    main()
