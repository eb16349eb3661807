"""Headline rows ("paper says / we measured"), the notebooks' comparison table and the README results index."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from .files import write_text
from .paths import ROOT

START, END = "<!-- results:start -->", "<!-- results:end -->"
NOTEBOOK_ORDER = ["basics", "gumbel", "thresholds", "relief", "neurons", "head_to_head"]


def headline(
    quantity: str,
    measured,
    *,
    paper=None,
    target: str | None = None,
    unit: str = "",
    met: bool | None = None,
    source: str = "",
    volatile: bool = False,
) -> dict:
    """One row of the paper-vs-reproduction table; `met` is None where there is no target.

    `volatile` marks run-dependent values (wall times, speed ratios): they stay in the notebook's table and
    results.json but are left out of the README, so that a rerun with the same numbers leaves README.md unchanged.
    """
    if isinstance(measured, float) and not math.isfinite(measured):
        measured = None
    return {
        "quantity": quantity,
        "paper": paper,
        "target": target,
        "measured": measured,
        "unit": unit,
        "met": None if met is None else bool(met),
        "source": source,
        "volatile": volatile,
    }


def fmt(value, unit: str = "") -> str:
    """A number as the tables print it (4 significant digits, thousands separators, with its unit)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    else:
        text = str(value)
    return f"{text}{unit}" if unit in ("", "%", "×") else f"{text} {unit}"


def verdict(met: bool | None) -> str:
    """MET / MISSED / – for a target."""
    return "–" if met is None else ("MET" if met else "MISSED")


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """The notebooks' closing table: quantity, paper, target, measured, verdict, source."""
    return pd.DataFrame(
        [
            {
                "quantity": r["quantity"],
                "paper": fmt(r["paper"], r["unit"]),
                "target": r["target"] or "–",
                "measured": fmt(r["measured"], r["unit"]),
                "verdict": verdict(r["met"]),
                "source": r["source"],
            }
            for r in rows
        ]
    )


def collect(figures: Path | None = None) -> list[dict]:
    """Every figures/<slug>/results.json, in notebook order."""
    figures = Path(figures or ROOT / "figures")
    docs = [json.loads(p.read_text()) for p in sorted(figures.glob("*/results.json"))]
    order = {slug: i for i, slug in enumerate(NOTEBOOK_ORDER)}
    return sorted(docs, key=lambda d: order.get(d.get("slug"), len(order)))


def results_markdown(docs: list[dict]) -> str:
    """The README's headline table: one row per headline quantity of every notebook (deterministic)."""
    if not docs:
        return "_No results yet: run `make reproduce`._"
    lines = ["| notebook | quantity | paper | target | measured | verdict |", "|---|---|---|---|---|---|"]
    for d in docs:
        for r in d.get("headline", []):
            if r.get("volatile"):
                continue
            cells = [
                f"`{d['slug']}` ({d['profile']})",
                r["quantity"],
                fmt(r["paper"], r["unit"]),
                r["target"] or "–",
                fmt(r["measured"], r["unit"]),
                verdict(r["met"]),
            ]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)  # no timings: a rerun with the same numbers leaves README.md unchanged


def update_readme(readme: Path | None = None, figures: Path | None = None) -> bool:
    """Rewrite the README section between the results markers; True when the file changed."""
    readme = Path(readme or ROOT / "README.md")
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} section to fill")
    body = results_markdown(collect(figures))
    new = re.sub(
        re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{body}\n{END}", text, flags=re.S
    )
    if new != text:
        write_text(readme, new)
    return new != text


def main() -> None:
    """`python -m pruning_lib.report`: rebuild the README results table."""
    changed = update_readme()
    print("README results table", "updated" if changed else "unchanged")


if __name__ == "__main__":
    main()
