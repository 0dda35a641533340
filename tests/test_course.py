"""The teacher guide's numbers: reading time from word counts, run times from the timings file, sessions."""

from __future__ import annotations

import json

import pytest

from primekit import course


def _write(path, markdown: str, code: str = "x = 1"):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [markdown]},
             {"cell_type": "code", "metadata": {}, "source": [code], "outputs": [], "execution_count": None}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_reading_time_counts_prose_words_not_code(tmp_path):
    # 300 words of prose, a glued value (one word) and a solution's code block (not read)
    text = " ".join(["word"] * 299) + " {glue:text}`acc:.1f`\n```python\nlots of code here\n```\n"
    notebook = _write(tmp_path / "a.ipynb", text)
    assert course.reading_minutes(notebook) == pytest.approx(300 / course.WORDS_PER_MINUTE)
    assert course.reading_minutes(notebook, words_per_minute=100) == pytest.approx(3.0)
    with pytest.raises(ValueError, match=r"notebook=.*missing.ipynb' is not a readable notebook"):
        course.reading_minutes(tmp_path / "missing.ipynb")


TIMINGS = {"book": {"cold": {"chapters_s": {"a": 600.0}}, "warm": {"chapters_s": {"a": 12.4}}},
           "tiny": {"cold": {"chapters_s": {"a": 40.0}}, "warm": {"chapters_s": {}}}}


def test_chapter_table_shows_measured_times_and_dashes(tmp_path):
    _write(tmp_path / "a.ipynb", " ".join(["w"] * 450))
    table = course.chapter_table(tmp_path, TIMINGS, ["a"])
    assert table.rows == (("a", "3 min", "40 s", "-", "10 min", "12 s"),)


def test_sessions_sum_reading_and_exercises_and_link_chapters(tmp_path):
    _write(tmp_path / "a.ipynb", " ".join(["w"] * 150))
    _write(tmp_path / "b.ipynb", " ".join(["w"] * 300))
    sessions = (course.Session("First", ("a", "b"), "things"),)
    table = course.session_table(tmp_path, sessions, {"a": 2, "b": 1})
    assert table.rows == (("1. First", "{doc}`a`, {doc}`b`", "3 min", "3", "things"),)
    assert course.session_table(tmp_path, sessions, links=False).rows[0][1:4] == ("a, b", "3 min", "0")


def test_the_first_chapter_to_train_is_named_for_both_orders(tmp_path):
    _write(tmp_path / "subnet.ipynb", "s", "result = train_method('software-pruning', profile, splits)")
    _write(tmp_path / "early.ipynb", "e", "model = train_method('memristor-pruning', profile, splits)")
    _write(tmp_path / "lif.ipynb", "l")
    assert course.training_chapters(tmp_path, ["lif", "subnet", "early"]) == ["subnet", "early"]
    note = course.first_run_note(tmp_path, ["lif", "subnet", "early"])
    assert "in the course's order that is subnet" in note and "(which runs chapters alphabetically" in note
    assert note.split("alphabetically, and whose timings these are) ")[1].startswith("early")
    assert course.first_run_note(tmp_path, ["lif"]) == "No chapter trains a network."


def test_every_session_chapter_is_a_notebook_of_the_book():
    book = course.Path(__file__).resolve().parents[1] / "book"
    for session in course.SESSIONS:
        for name in session.chapters:
            assert (book / f"{name}.ipynb").is_file(), name
