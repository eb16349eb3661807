"""The registry: every method behind one interface, and the README's "Add a method" example run as written."""

import re
from pathlib import Path

import pytest
from conftest import mnist_or_skip

from pruning_lib.methods import registry
from pruning_lib.methods.base import Method, Point

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_blocks() -> list[str]:
    """The python code blocks of the README's "Add a method" section."""
    text = README.read_text()
    section = text[text.index("## Add a method") :]
    section = section[: section.find("\n## ", 5) if "\n## " in section[5:] else len(section)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_register_refuses_duplicates_and_unknown_families(monkeypatch):
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.METHODS["han"])

    class Odd:
        name, family, knob = "odd", "diagonal", "k"

        def points(self, dense, splits, *, values, budget, seed=0):
            return []

    with pytest.raises(ValueError, match="family"):
        registry.register(Odd())


def test_the_readme_example_adds_a_method_and_runs_through_compare(monkeypatch):
    mnist_or_skip()
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))
    module, usage = readme_blocks()
    ns: dict = {}
    exec(compile(module, "README:add-a-method", "exec"), ns)
    assert isinstance(ns["MagnitudeFinetune"](), Method)
    exec(compile(usage, "README:usage", "exec"), ns)
    points, rows = ns["points"], ns["rows"]
    assert [p.value for p in points] == [4.0, 16.0] and all(isinstance(p, Point) for p in points)
    assert [round(r["weights_pct"]) for r in rows] == [25, 6] and [r["epochs"] for r in rows] == [1, 1]
    assert all(
        r["test_acc"] > 0.3 for r in rows
    )  # far above chance (0.1): fine-tuned from a trained dense model
    assert "magnitude_ft" in registry.METHODS
