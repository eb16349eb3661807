"""Run times: reproduce's record keeps cold and warm runs apart; a notebook's summary reads them back."""

from pruning_lib import timings


def test_record_and_summary(tmp_path):
    path = tmp_path / "run_times.json"
    assert "not measured" in timings.run_summary("00_pruning_basics", path)
    timings.record("00_pruning_basics", "quick", 412.0, cold=True, path=path)
    timings.record("00_pruning_basics", "quick", 20.4, cold=False, path=path)
    timings.record("00_pruning_basics", "smoke", 9.0, cold=False, path=path)
    doc = timings.load_run_times(path)
    assert doc["00_pruning_basics"]["quick"]["cold"]["seconds"] == 412.0
    assert doc["00_pruning_basics"]["quick"]["warm"]["seconds"] == 20.4
    text = timings.run_summary("00_pruning_basics", path)
    assert "Run time, quick: 6.9 min from an empty cache" in text and "20 s with the cache warm" in text
    assert "Run time, smoke: 9 s with the cache warm" in text
    assert "Run time, paper: not measured" in text
    assert text.startswith("Reading time: about ") and int(text.split()[3]) >= 1


def test_cpu_model_is_recorded_with_each_time(tmp_path):
    path = tmp_path / "run_times.json"
    model = timings.cpu_model()
    assert isinstance(model, str) and model.strip()
    assert timings.record("00_pruning_basics", "quick", 1.0, cold=True, path=path)["cpu"] == model
    entry = timings.record_command("reproduce_quick", 2280.0, path=path, cold=True)
    assert entry["cpu"] == model and entry["cold"] is True
    assert timings.load_run_times(path)["_commands"]["reproduce_quick"]["seconds"] == 2280.0


def test_readme_says_one_run_only_when_the_notebook_times_are_that_run(tmp_path):
    from pruning_lib.readme import times_markdown

    cold = {"seconds": 60.0, "cpus": 2, "date": "2026-12-02"}
    doc = {
        "00_pruning_basics": {"quick": {"cold": cold}},
        "01_gumbel_softmax_pruning": {"quick": {"cold": cold}},
    }
    assert "the sum of each notebook's last run" in times_markdown(doc)
    one = {"seconds": 120.0, "cpus": 2, "cpu": "Some CPU", "date": "2026-12-02", "cold": True}
    text = times_markdown({**doc, "_commands": {"reproduce_quick": one}})
    assert (
        "2.0 min on 2 CPU cores (00 60 s · 01 60 s: of notebooks in one run from an empty cache on Some CPU"
        in text
    )
    stale = {**one, "seconds": 500.0}  # a notebook rerun cold since: its time is not that run's
    assert "the sum of each notebook's last run" in times_markdown(
        {**doc, "_commands": {"reproduce_quick": stale}}
    )
    warm = {**one, "cold": False}
    assert "the sum of each notebook's last run" in times_markdown(
        {**doc, "_commands": {"reproduce_quick": warm}}
    )
