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
