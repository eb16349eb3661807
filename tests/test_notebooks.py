"""Static checks of the notebooks: every knob is checked before the run and recorded in results.json."""

import ast

import nbformat
import pytest

from pruning_lib import reproduce

NOTEBOOKS = reproduce.select_notebooks()
COMMON = {"profile", "seed", "device"}  # setup_run checks and records these itself


def code_cells(nb) -> list[str]:
    return [c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"]


def calls(tree, attr: str):
    return [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "").startswith(attr)
    ]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_knob_is_checked_and_recorded(nb):
    knobs = set(reproduce.notebook_parameters(nb)) - COMMON
    source = next(s for s in code_cells(nb) if "pl.setup_run(" in s)
    tree = ast.parse(source)
    (setup,) = calls(tree, "setup_run")
    params = next((k.value for k in setup.keywords if k.arg == "params"), None)
    recorded = {n.id for n in ast.walk(params) if isinstance(n, ast.Name)} if params is not None else set()
    recorded |= (
        {n.value for n in ast.walk(params) if isinstance(n, ast.Constant)} if params is not None else set()
    )
    checked = set()
    for call in calls(tree, "check_"):
        if call.lineno < setup.lineno:
            checked |= {
                a.value for a in ast.walk(call) if isinstance(a, ast.Constant) and isinstance(a.value, str)
            }
    for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For) and n.lineno < setup.lineno):
        checked |= {a.value for a in ast.walk(loop.iter) if isinstance(a, ast.Constant)}
    assert knobs <= recorded, f"{nb.name}: not passed to setup_run(params=...): {sorted(knobs - recorded)}"
    assert knobs <= checked, f"{nb.name}: not checked before setup_run: {sorted(knobs - checked)}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_results_are_written_last_with_their_figures(nb):
    cells = code_cells(nb)
    assert "run.write_results(results, figures=" in cells[-1], (
        f"{nb.name}: the last cell must publish the run"
    )
    assert not any("write_results(" in c for c in cells[:-1])


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(nb, caplog):
    """Papermill parses each line of the parameters cell (a second '=' on a line makes it skip that parameter)."""
    import papermill

    with caplog.at_level("WARNING", logger="papermill"):
        inferred = papermill.inspect_notebook(str(nb))
    assert sorted(inferred) == sorted(reproduce.notebook_parameters(nb))
    assert not [r for r in caplog.records if "Unable to parse" in r.getMessage()]
