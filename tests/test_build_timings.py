"""The build-timing script: reading chapter times from a build log, and the README table it writes."""

import json

import pytest

from primekit import build_timings

LOG = ("\x1b[01mreading sources...\x1b[39;49;00m [ 17%] book/early_stop\n"
       "/repo/book/early_stop.ipynb: Executing notebook using local CWD [mystnb]\n"
       "/repo/book/early_stop.ipynb: Executed notebook in 120.50 seconds [mystnb]\n"
       "/repo/book/energy.ipynb: Executed notebook in 19.23 seconds [mystnb]\n")


def test_chapter_seconds_are_read_from_the_log():
    assert build_timings.chapter_seconds(LOG) == {"early_stop": 120.5, "energy": 19.23}
    assert build_timings.chapter_seconds("nothing executed") == {}


def test_the_readme_table_is_rewritten_between_its_markers(tmp_path):
    timings = {"profile": "book", "measured_at": "2026-12-01 02:00", "machine": "x86_64, 2 cores, Linux",
               "commit": "abc1234", "cold": {"total_s": 600.0, "chapters_s": {"early_stop": 120.5, "energy": 19.2}},
               "warm": {"total_s": 61.0, "chapters_s": {"early_stop": 20.0, "energy": 5.0}}}
    (tmp_path / "book").mkdir()
    (tmp_path / "README.md").write_text("intro\n<!-- build-timings:start -->\nold\n<!-- build-timings:end -->\nend\n")
    build_timings.write(timings, tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert "old" not in readme and readme.startswith("intro\n") and readme.endswith("end\n")
    assert "| early_stop | 120 | 20 |" in readme and "| energy | 19 | 5 |" in readme
    assert "**10.0 min**" in readme and "**61 s**" in readme
    assert json.loads((tmp_path / "book" / "timings.json").read_text()) == {"book": timings}
    # a tiny record joins the book's; the README keeps showing the book profile
    tiny = {**timings, "profile": "tiny", "cold": {"total_s": 90.0, "chapters_s": {"early_stop": 9.0}}}
    build_timings.write(tiny, tmp_path)
    assert build_timings.read(tmp_path) == {"book": timings, "tiny": tiny}
    assert "**10.0 min**" in (tmp_path / "README.md").read_text()


def test_the_first_format_is_read_as_one_profile(tmp_path):
    (tmp_path / "book").mkdir()
    old = {"profile": "book", "cold": {}, "warm": {}}
    (tmp_path / "book" / "timings.json").write_text(json.dumps(old))
    assert build_timings.read(tmp_path) == {"book": old}
    (tmp_path / "book" / "timings.json").write_text("{broken")
    with pytest.raises(ValueError, match="timings.json is not valid JSON"):
        build_timings.read(tmp_path)


def test_keep_must_be_empty_so_the_cold_build_is_cold(tmp_path):
    from primekit import build_timings

    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "leftover").write_text("x")
    with pytest.raises(ValueError, match="keep=.*not empty"):
        build_timings.measure("tiny", keep=tmp_path / "old")
