"""The verdict protocol: no code path chooses on the test split (a grep over the library and the notebooks)."""

import re

from pruning_lib.paths import ROOT

# a choice is a max/min/sort/filter over candidates; it must never read a test-split quantity
CHOICE = re.compile(
    r"\.(idxmax|idxmin|argmax|argmin|nlargest|nsmallest|sort_values)\(|\bsorted\(|\b(max|min)\(.*\bkey=|"
    r"\bchoose\w*\(|\bselect\w*\(|\bselect_on\b|\bbest\w*\s*="
)
TEST = re.compile(r"test|error_final_pct\b")
ALLOWED = re.compile(
    r"#\s*reports test\b"
)  # a line that only reports a test number of an already chosen point


def _sources():
    yield from sorted((ROOT / "pruning_lib").rglob("*.py"))
    yield from sorted((ROOT / "notebooks").glob("*.py"))


def offending_lines():
    """(file, line number, text) of every line that makes a choice and mentions the test split."""
    out = []
    for path in _sources():
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0] if not ALLOWED.search(line) else ""
            if CHOICE.search(code) and TEST.search(code):
                out.append((path.relative_to(ROOT).as_posix(), i, line.strip()))
    return out


def test_no_choice_reads_the_test_split():
    bad = offending_lines()
    assert not bad, "choices must be made on the validation split:\n" + "\n".join(
        f"{f}:{i}: {t}" for f, i, t in bad
    )


def test_the_grep_can_fail(tmp_path):
    assert CHOICE.search("best = df.loc[df.test_acc.idxmax()]") and TEST.search("df.test_acc.idxmax()")
    assert not (CHOICE.search("acc = evaluate(model, *splits.test)") and TEST.search("x"))


def test_no_select_on_parameter():
    hits = [p for p in _sources() if "select_on" in p.read_text()]
    assert not hits, f"select_on (a test-or-val switch) is gone from the protocol: {hits}"
