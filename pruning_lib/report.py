"""Headline rows ("paper says / we measured") and the notebooks' comparison table (the README: `readme`)."""

from __future__ import annotations

import math
import re

import pandas as pd

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
VERDICTS = ("better", "tie", "worse")


def headline(
    quantity: str,
    measured,
    *,
    id: str,
    paper=None,
    target: str | None = None,
    unit: str = "",
    met: bool | None = None,
    interval=None,
    verdict: str | None = None,
    versus: str = "",
    source: str = "",
    volatile: bool = False,
    seeds: int | None = None,
) -> dict:
    """One row of the paper-vs-reproduction table, keyed by a stable snake_case `id`.

    A row that tests a target sets `met` (None where there is no target). A row that compares sets `interval`
    ([low, high], 95%, in its unit) and `verdict` ('better' | 'tie' | 'worse') against `versus` (what it is
    compared with). `seeds`: how many seeds the measured value pools (None: one run). `volatile` marks run-dependent values (wall times, speed ratios): they stay in the
    notebook's table and results.json but are left out of the README, so that a rerun with the same numbers
    leaves README.md unchanged.
    """
    if not isinstance(id, str) or not ID_PATTERN.match(id):
        raise ValueError(f"headline id={id!r} must be snake_case: lowercase letters, digits and _")
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"verdict={verdict!r} is not one of {VERDICTS}")
    if verdict is not None and interval is None:
        raise ValueError(f"headline {id!r}: a verdict needs the interval it rests on")
    if interval is not None:
        low, high = (float(v) for v in interval)
        if not low <= high:
            raise ValueError(f"headline {id!r}: interval [{low}, {high}] is not ordered")
        interval = [low, high]
    if isinstance(measured, float) and not math.isfinite(measured):
        measured = None
    return {
        "id": id,
        "quantity": quantity,
        "paper": paper,
        "target": target,
        "measured": measured,
        "unit": unit,
        "interval": interval,
        "met": None if met is None else bool(met),
        "verdict": verdict,
        "versus": versus,
        "source": source,
        "volatile": volatile,
        "seeds": seeds,
    }


def check_headline(rows: list[dict]) -> None:
    """Every headline row has a snake_case id, ids are unique, and a verdict comes with an interval."""
    seen = set()
    for r in rows:
        rid = r.get("id")
        if not isinstance(rid, str) or not ID_PATTERN.match(rid):
            raise ValueError(f"headline row {r.get('quantity')!r} has no snake_case id (got {rid!r})")
        if rid in seen:
            raise ValueError(f"headline id {rid!r} appears twice")
        seen.add(rid)
        if r.get("verdict") is not None and r.get("interval") is None:
            raise ValueError(f"headline {rid!r}: a verdict needs its interval")


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


def fmt_interval(interval, unit: str = "") -> str:
    """[low, high] as the tables print it, or – when there is none."""
    if interval is None:
        return "–"
    low, high = interval
    return f"[{fmt(float(low))}, {fmt(float(high), unit)}]"


def verdict(row_or_met) -> str:
    """MET / MISSED for a target, better / tie / worse (vs what) for a comparison, – otherwise."""
    if isinstance(row_or_met, dict):
        parts = [] if row_or_met.get("met") is None else [verdict(row_or_met["met"])]
        if row_or_met.get("verdict") is not None:
            versus = row_or_met.get("versus")
            parts.append(row_or_met["verdict"] + (f" (vs {versus})" if versus else ""))
        return " · ".join(parts) or "–"
    return "–" if row_or_met is None else ("MET" if row_or_met else "MISSED")


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """The notebooks' closing table: id, quantity, paper, target, measured, 95% interval, verdict, source."""
    check_headline(rows)
    return pd.DataFrame(
        [
            {
                "id": r["id"],
                "quantity": r["quantity"],
                "paper": fmt(r["paper"], r["unit"]),
                "target": r["target"] or "–",
                "measured": fmt(r["measured"], r["unit"]),
                "95% interval": fmt_interval(r.get("interval"), r["unit"]),
                "verdict": verdict(r),
                "source": r["source"],
            }
            for r in rows
        ]
    )
