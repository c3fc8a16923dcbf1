"""The side-by-side benchmark runs, and its peers agree with numbarnn (no timing asserts)."""
import pytest

from numbarnn import bench


def test_quick_bench_writes_table(tmp_path, capsys, monkeypatch):
    timed = []  # what the command's own run measured (a second run costs ~10 s)
    real_run = bench.run
    monkeypatch.setattr(bench, "run", lambda *a, **k: timed.append(real_run(*a, **k))
                        or timed[-1])
    assert bench.main(["--shapes", "quick", "--repeats", "1", "--peers", "numbarnn,numpy",
                       "--output-dir", str(tmp_path)]) == 0
    text = (tmp_path / "bench.txt").read_text()
    assert "(1, 50, 8, 8)" in text and "numbarnn" in text and "numpy" in text
    (rows, missing, rate), = timed
    assert rate > 0 and not missing
    for row in rows:
        assert row["max_abs_diff"]["numpy"] < 1e-5  # the numpy loop computes the same
        assert row["floor_ms"] > 0


def test_missing_peer_is_reported_not_fatal():
    rows, missing, _ = bench.run([(1, 3, 2, 2)], 1, ["numbarnn", "no_such_peer"], 64)
    assert "no_such_peer" in missing and "numbarnn" in rows[0]["ms"]


def test_an_unwritable_output_dir_fails_before_the_timings(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench, "run", lambda *args, **kwargs: pytest.fail("timed"))
    (tmp_path / "a_file").write_text("")
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--shapes", "quick", "--output-dir", str(tmp_path / "a_file" / "x")])
    assert exit_.value.code == 2
    assert "argument --output-dir: cannot write to" in capsys.readouterr().err
