"""The exercise machinery: not attempted, wrong and right answers; every notebook has self-checking exercises."""

import ast
import inspect
import re
from pathlib import Path

import nbformat
import pytest
import torch

import pruning_lib as pl
from pruning_lib import exercises
from pruning_lib.exercises import ExerciseError, exercise, expect_close, expect_shape
from pruning_lib.reproduce import select_notebooks

ROOT = Path(__file__).resolve().parents[1]
SLUG_OF = {nb.name[:2]: slug for nb, slug in zip(select_notebooks(), exercises.SLUGS)}


@exercise("demo")
def check_square(f):
    expect_close(f(torch.arange(3.0)), torch.tensor([0.0, 1.0, 4.0]), "f(x)")


def test_not_attempted_right_and_wrong(capsys):
    def stub(x):
        raise NotImplementedError

    assert check_square(None) is False and check_square(stub) is False
    assert "not attempted" in capsys.readouterr().out
    assert check_square(lambda x: x**2) is True
    with pytest.raises(ExerciseError, match=r"f\(x\): expected 4, got 6 at index \(2,\)"):
        check_square(lambda x: x**2 + 2 * (x == 2))
    with pytest.raises(ExerciseError, match=r"shape \(3,\), got \(2,\)"):
        check_square(lambda x: x[:2] ** 2)
    with pytest.raises(ExerciseError, match="torch.Tensor"):
        expect_shape([1, 2], (2,), "x")


def test_a_missing_reference_answer_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no reference answers"):
        exercises.solution("no_such_notebook", "f")
    with pytest.raises(AttributeError, match="no reference answer named"):
        exercises.solution("basics", "no_such_answer")


def exercise_cells(nb: Path) -> list[str]:
    cells = nbformat.read(nb, as_version=4).cells
    return [c.source for c in cells if "exercise" in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("nb", select_notebooks(), ids=lambda p: p.stem)
def test_every_notebook_has_three_checked_exercises(nb):
    slug = SLUG_OF[nb.name[:2]]
    cells = exercise_cells(nb)
    assert len(cells) >= 3, f"{nb.name}: {len(cells)} cells tagged 'exercise' (want at least 3)"
    for source in cells:
        assert re.search(rf"pl\.exercises\.{slug}\.check_\w+\(", source), (
            f"{nb.name}: an exercise cell calls no pl.exercises.{slug}.check_*: {source[:80]!r}"
        )
    module = getattr(pl.exercises, slug)
    checks = {n for n, f in inspect.getmembers(module, inspect.isfunction) if n.startswith("check_")}
    called = {m for s in cells for m in re.findall(rf"pl\.exercises\.{slug}\.(check_\w+)\(", s)}
    assert checks <= called, f"{nb.name}: checks no exercise cell calls: {sorted(checks - called)}"


@pytest.mark.parametrize("slug", exercises.SLUGS)
def test_every_check_is_fed_a_wrong_answer_by_a_test(slug):
    checks = {
        n
        for n, f in inspect.getmembers(getattr(pl.exercises, slug), inspect.isfunction)
        if n.startswith("check_")
    }
    tested = set()
    for path in Path(__file__).parent.glob("test_exercises_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.With) and "raises" in ast.unparse(node.items[0]):
                tested |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                tested |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    assert checks <= tested, f"{slug}: no test feeds these checks a wrong answer: {sorted(checks - tested)}"


@pytest.mark.parametrize("slug", exercises.SLUGS)
def test_reference_answers_sit_out_of_the_readers_way(slug):
    assert (ROOT / "notebooks" / "solutions" / f"{slug}.py").is_file()
