"""The package's shape: no import cycle, short modules, every method registered, no per-method code in compare."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "pruning_lib"


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every pruning_lib module that `path` imports, at the top or inside a function."""
    name, found = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pruning_lib")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("pruning_lib"):
                found.add(mod)
                found |= {f"{mod}.{a.name}" for a in node.names}
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PKG.rglob("*.py")}
    return {m: {i for i in imports_of(p) if i in files and i != m} for m, p in files.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(g[m]):
            # a package's __init__ importing its own submodules is re-exporting, not a cycle
            if m.startswith(n + ".") or n.startswith(m + "."):
                continue
            if state.get(n) == "open":
                return stack[stack.index(n) :] + [n]
            if n not in state and (c := visit(n)):
                return c
        stack.pop()
        state[m] = "done"
        return None

    for m in sorted(g):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    assert find_cycle(graph()) is None, f"import cycle: {' -> '.join(find_cycle(graph()))}"


def test_leaf_modules_import_nothing_of_ours():
    g = graph()
    for leaf in ("pruning_lib.paths", "pruning_lib.checks", "pruning_lib.files"):
        assert not g[leaf], f"{leaf} imports {g[leaf]}"


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_is_longer_than_500_lines(path):
    assert len(path.read_text().splitlines()) <= 500


def test_every_method_is_registered_and_compare_has_no_method_code():
    from pruning_lib.methods.base import Method
    from pruning_lib.methods.registry import METHODS

    expected = {
        "magnitude_global",
        "random",
        "han",
        "gumbel",
        "thresholds",
        "relief",
        "neurons",
        "neurons_ft",
    }
    assert set(METHODS) >= expected
    for name, m in METHODS.items():
        assert isinstance(m, Method) and m.name == name and m.family in ("unstructured", "structured")
    source = (PKG / "compare.py").read_text()
    for name in expected:
        assert f'"{name}"' not in source and f"'{name}'" not in source, f"compare.py mentions {name}"
    assert "methods.registry" in source


def test_no_two_public_functions_share_a_name():
    seen: dict[str, list[str]] = {}
    for path in PKG.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                seen.setdefault(node.name, []).append(module_name(path))
    allowed = {"main", "points", "forward"}  # entry points and protocol methods
    clashes = {n: m for n, m in seen.items() if len(m) > 1 and n not in allowed}
    assert not clashes, f"public names defined in several modules: {clashes}"


def test_docstrings_cite_no_files_outside_the_repository():
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        assert "shared/papers" not in text and "spec §" not in text, path
