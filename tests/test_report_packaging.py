"""README results table, Han's published tables, pins and the notebook runner's argument checks."""

import json
import tomllib

import nbformat
import pytest

from pruning_lib import paths, pins, readme, report, reproduce, timings
from pruning_lib.models import LeNet5, LeNet300100
from pruning_lib.reference import han_layer_keep, han_rebuilt_count, han_table


def _results(tmp_path, slug, rows):
    d = tmp_path / "figures" / slug
    d.mkdir(parents=True)
    doc = {"slug": slug, "profile": "quick", "device": "cpu", "timings_s": {"total": 61.2}, "headline": rows}
    (d / "results.json").write_text(json.dumps(doc))


def test_readme_table_is_rebuilt_between_markers(tmp_path):
    _results(
        tmp_path,
        "gumbel",
        [
            report.headline("kept weights", 350, id="kept", paper=399, target="<= 399", met=True),
            report.headline("wall time", 61.0, id="wall_time", unit="s", volatile=True),
        ],
    )
    _results(
        tmp_path,
        "basics",
        [
            report.headline(
                "dense accuracy", 98.47, id="dense_acc", paper=98.36, target=">= 98.0", unit="%", met=True
            )
        ],
    )
    readme_md = tmp_path / "README.md"
    readme_md.write_text(
        f"intro\n{readme.markers('results')[0]}\nold\n{readme.markers('results')[1]}\noutro\n"
    )
    assert readme.update_readme(readme_md, tmp_path / "figures", tmp_path / "run_times.json")
    text = readme_md.read_text()
    assert text.index("`basics`") < text.index("`gumbel`") and "98.47%" in text and "MET" in text
    assert "old" not in text and text.startswith("intro") and text.endswith("outro\n")
    assert "wall time" not in text  # volatile rows stay out of the README
    assert not readme.update_readme(
        readme_md, tmp_path / "figures", tmp_path / "run_times.json"
    )  # idempotent
    readme_md.write_text("no markers")
    with pytest.raises(ValueError, match="results:start"):
        readme.update_readme(readme_md, tmp_path / "figures", tmp_path / "run_times.json")


def test_formatting_and_verdicts():
    assert report.fmt(266200) == "266,200" and report.fmt(0.98765, "%") == "0.9877%"
    assert report.fmt(None) == "–" and report.fmt(12.5, "×") == "12.5×" and report.fmt(3, "s") == "3 s"
    assert [report.verdict(v) for v in (True, False, None)] == ["MET", "MISSED", "–"]
    assert report.headline("q", float("nan"), id="q")["measured"] is None
    row = report.headline("acc", 98.0, id="acc", unit="%", interval=(97.7, 98.3), verdict="tie", versus="Han")
    assert (
        report.verdict(row) == "tie (vs Han)" and report.fmt_interval(row["interval"], "%") == "[97.7, 98.3%]"
    )
    for bad in ("Acc", "a-b", "", "1a"):
        with pytest.raises(ValueError, match="snake_case"):
            report.headline("q", 1, id=bad)
    with pytest.raises(ValueError, match="interval"):
        report.headline("q", 1, id="q", verdict="better")
    with pytest.raises(ValueError, match="one of"):
        report.headline("q", 1, id="q", interval=(0, 1), verdict="win")
    with pytest.raises(ValueError, match="twice"):
        report.check_headline([report.headline("a", 1, id="a"), report.headline("b", 2, id="a")])


def test_han_tables_rebuild_the_published_totals():
    sizes300 = {"fc1": 235_200, "fc2": 30_000, "fc3": 1_000}
    sizes5 = {"conv1": 500, "conv2": 25_000, "fc1": 400_000, "fc2": 5_000}
    assert sum(sizes300.values()) == 266_200 and sum(sizes5.values()) == 430_500
    assert han_rebuilt_count("lenet300", sizes300) == 21_776
    assert han_rebuilt_count("lenet5", sizes5) == 36_280
    assert set(han_layer_keep("lenet5")) == {n for n, _ in LeNet5().named_children()}
    assert set(han_layer_keep("lenet300")) == {n for n, _ in LeNet300100().named_children()}
    assert "arXiv:1506.02626" in han_table(2).attrs["source"]


def test_environment_yml_has_the_same_pins_as_constraints():
    c = pins.read_pins(paths.ROOT / "constraints.txt")
    assert c == pins.read_pins(paths.ROOT / "environment.yml")
    assert c["torch"] == "2.14.1" and c["torchvision"] == "0.29.2"
    deps = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split("==")[0].lower() for d in deps}
    assert names <= set(c), names - set(c)


def test_runner_rejects_bad_arguments_before_running(capsys):
    assert reproduce.main(["--profile", "fast"]) == 2
    assert "'smoke', 'quick', 'paper'" in capsys.readouterr().err
    assert reproduce.main(["--notebook", "99"]) == 2


def test_injected_cell_is_tagged_for_nbval(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("profile = 'quick'", metadata={"tags": ["injected-parameters"]}),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    reproduce.tag_injected_cell(path)
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].metadata.tags == ["parameters"]
    assert cells[1].metadata.tags == ["injected-parameters", "nbval-skip"]


def test_progress_bars_are_stripped_and_other_output_kept(tmp_path):
    bar = "\rtrain:  40%|####      | 4/10 [00:01<00:02,  3.1it/s, loss=0.2]\rtrain: 100%|##########| 10/10 [00:03<00:00]\n"
    cell = nbformat.v4.new_code_cell("fit()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=bar),
        nbformat.v4.new_output("stream", name="stderr", text=bar + "\x1b[A\n" + "UserWarning: keep me\n"),
        nbformat.v4.new_output("stream", name="stdout", text="accuracy 98.5% |x| [1]\n"),
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    reproduce.strip_progress_bars(path)
    outs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [o["text"] for o in outs] == ["UserWarning: keep me\n", "accuracy 98.5% |x| [1]\n"]


def test_readme_findings_and_times_are_generated(tmp_path):
    _results(
        tmp_path,
        "gumbel",
        [
            report.headline("kept weights", 350, id="kept", target="<= 399", met=True, seeds=3),
            report.headline("cost ratio", 4.3, id="cost", unit="×", target="<= 2", met=False),
        ],
    )
    runs = tmp_path / "run_times.json"
    timings.record("01_gumbel_softmax_pruning", "quick", 420.0, cold=True, path=runs)
    readme_md = tmp_path / "README.md"
    body = "".join(f"{a}\nold\n{b}\n" for a, b in map(readme.markers, ("findings", "times", "results")))
    readme_md.write_text(body)
    assert readme.update_readme(readme_md, tmp_path / "figures", runs)
    text = readme_md.read_text()
    assert "1 of 2 targets met; missed: cost ratio (measured 4.3×, target <= 2)" in text
    assert (
        "`make reproduce` (quick, empty cache): 7.0 min on 2 CPU cores" in text
        or "CPU cores (01 7.0 min" in text
    )
    assert "| 3 |" in text and "### Paper reproductions" in text and "old" not in text


def test_seeds_column_reads_the_row_or_its_network():
    doc = {"seeds": {"lenet300": [0, 1, 2], "lenet5": [0, 1]}}
    assert readme.seeds_of(doc, {"id": "lenet5_own_best"}) == 2
    assert readme.seeds_of(doc, {"id": "lenet300_x"}) == 3
    assert readme.seeds_of(doc, {"id": "x", "seeds": 5}) == 5
    assert readme.seeds_of({"seeds": [0]}, {"id": "x"}) == 1 and readme.seeds_of({}, {"id": "x"}) == "–"


def _fake_notebook(path, slug_line='run = pl.setup_run("unit", profile, PROFILES, seed=seed)'):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"if False:\n    {slug_line}"),
    ]
    nbformat.write(nb, path)
    return path


def test_slug_is_read_from_the_setup_run_call(tmp_path):
    assert reproduce.notebook_slug(_fake_notebook(tmp_path / "99_a.ipynb")) == "unit"
    nb = _fake_notebook(tmp_path / "99_b.ipynb", "run = pl.setup_run(\n        'head_to_head', profile, P)")
    assert reproduce.notebook_slug(nb) == "head_to_head"
    with pytest.raises(ValueError, match="one pl.setup_run"):
        reproduce.notebook_slug(_fake_notebook(tmp_path / "99_c.ipynb", "run = setup(profile)"))
    for nb in reproduce.select_notebooks():  # every real notebook names its slug once
        assert reproduce.notebook_slug(nb) in readme.NOTEBOOK_ORDER


def test_paper_run_writes_its_notebook_beside_its_figures(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setenv("PRUNING_BUILD", str(tmp_path / "build"))
    ran = []

    def execute(src, dst, parameters, **kw):  # papermill without a kernel: the source plus the injected cell
        ran.append(parameters)
        nb = nbformat.read(src, as_version=4)
        nb.cells.insert(
            1, nbformat.v4.new_code_cell("profile = 'paper'", metadata={"tags": ["injected-parameters"]})
        )
        nbformat.write(nb, dst)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setattr(reproduce, "write_twin", lambda nb: ran.append("twin"))
    (tmp_path / "notebooks").mkdir()
    nb = _fake_notebook(tmp_path / "notebooks" / "99_unit.ipynb")
    before = nb.read_bytes()
    reproduce.run_notebook(nb, "paper", {"networks": "lenet300"})
    out = tmp_path / "figures" / "unit" / "paper" / "99_unit.ipynb"
    assert nb.read_bytes() == before and "twin" not in ran  # the committed notebook and its twin: untouched
    cells = nbformat.read(out, as_version=4).cells
    assert cells[1].metadata.tags == ["injected-parameters", "nbval-skip"]
    assert ran == [{"profile": "paper", "networks": "lenet300"}]
    assert not list((tmp_path / "build" / "notebooks").glob("*.running*"))
    reproduce.run_notebook(nb, "quick")  # quick still replaces the notebook in place, and rewrites its twin
    assert nb.read_bytes() != before and ran[-1] == "twin" and out.is_file()


def test_readme_has_a_paper_profile_column_filled_where_a_paper_run_exists(tmp_path):
    rows = [
        report.headline("kept", 6.9, id="lenet300_kept", unit="%", target="<= 7%", met=True),
        report.headline("kept", 5.0, id="lenet5_kept", unit="%", target="<= 7%", met=True),
    ]
    _results(tmp_path, "thresholds", rows)
    _results(tmp_path, "relief", [report.headline("drop", 0.2, id="drop", unit="pp")])
    quick = json.loads((tmp_path / "figures" / "thresholds" / "results.json").read_text())
    paper = {**quick, "profile": "paper", "params": {"profile": "paper", "seed": 0, "networks": "lenet300"},
             "headline": [report.headline("kept", 8.1, id="lenet300_kept", unit="%", target="<= 5.5%", met=False),
                          report.headline("new", 1.0, id="paper_only")]}  # fmt: skip
    quick["params"] = {"profile": "quick", "seed": 0, "networks": "all"}
    (tmp_path / "figures" / "thresholds" / "results.json").write_text(json.dumps(quick))
    (tmp_path / "figures" / "thresholds" / "paper").mkdir()
    (tmp_path / "figures" / "thresholds" / "paper" / "results.json").write_text(json.dumps(paper))
    docs = readme.collect(tmp_path / "figures")
    assert [d["profile"] for d in docs] == ["quick", "quick"]  # a paper run never enters as a row of its own
    papers = readme.collect_paper(tmp_path / "figures")
    text = readme.results_markdown(docs, papers)
    lines = text.splitlines()
    assert lines[2].endswith("| verdict | paper profile |") and lines[3] == "|---" + "|---" * 9 + "|"
    by_id = {line.split(" | ")[1]: line for line in lines if line.startswith("| `")}
    assert by_id["`lenet300_kept`"].endswith(
        "| MET | 8.1% (MISSED) |"
    )  # measured and verdict of the paper run
    assert by_id["`lenet5_kept`"].endswith("| MET | – |")  # the paper run skipped LeNet-5
    assert by_id["`drop`"].endswith("| – | – |") and "paper_only" not in text  # no paper run of relief
    assert (
        lines[-1]
        == "_Paper profile (`figures/<slug>/paper/`): runs of `thresholds` (networks=lenet300); `–` where none ran._"
    )
    assert all(len(line.split(" | ")) == 10 for line in lines if line.startswith("| "))
    assert text == readme.results_markdown(docs, papers)  # deterministic
    assert "no run yet" in readme.results_markdown(docs, {}).splitlines()[-1]
    assert readme.paper_params({"params": {"profile": "paper", "seed": 1}}, None) == "seed=1"
    assert readme.paper_params({"params": {"profile": "paper", "seed": 0}}, {"params": {"seed": 0}}) == ""
    readme_md = tmp_path / "README.md"
    readme_md.write_text("{}\nold\n{}\n".format(*readme.markers("results")))
    assert readme.update_readme(readme_md, tmp_path / "figures", tmp_path / "run_times.json")
    assert "8.1% (MISSED)" in readme_md.read_text()
