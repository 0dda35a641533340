"""Exercises and solutions: the transformations on a small notebook, and every chapter's solutions executed.

The unit tests check the cells each transformation produces on a synthetic notebook. The chapter tests run,
once per chapter, its student copy with every solution appended (profile ``tiny``, with the data root of the
tiny book build in tests/test_book.py, so its emulated data and cache are reused): a solution broken by a
renamed function, or one that no longer runs after its chapter, fails here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from primekit import exercises
from primekit.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
_ENV_AT_IMPORT = dict(os.environ)  # before any test fixture changes PRIMEKIT_DATA (as tests/test_book.py)

BOX_1 = ":::{admonition} Solution\n:class: dropdown\n\nMultiply:\n\n```python\ny = 2 * x\nprint(y)\n```\n\nIt prints y.\n:::"
BOX_2 = (":::{admonition} Solution\n:class: dropdown\n\n```python\n# a comment with ::: and ## inside\nz = x + 1\n```\n\n"
         "And then:\n\n```python\nprint(z)\n```\n:::")
NOTICE = ("## What to notice\n\nStuff.\n\n## Exercises\n\nSolutions are folded; try first.\n\nWork in pairs.\n\n"
          "### Exercise 1: double it\n\nCompute 2x.\n\n" + BOX_1 + "\n\n### Exercise 2: think\n\nWhy?\n")


def synthetic_notebook():
    """A chapter in miniature: the section starts mid-cell, a box sits in its own cell, an exercise has no box
    and the section ends mid-cell."""
    setup = nbformat.v4.new_code_cell("x = 2", id="setup")
    setup.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
    setup.execution_count = 3
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Chapter\n\nText.", id="title"),
        setup,
        nbformat.v4.new_markdown_cell(NOTICE, id="notice"),
        nbformat.v4.new_markdown_cell(BOX_2, id="box2"),
        nbformat.v4.new_code_cell("end = 1", id="end", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell("### Exercise 3: no box\n\nJust think.\n\n## Summary\n\nDone.", id="last"),
    ])


def cells(nb):
    return [(cell.cell_type, cell.id, "".join(cell.source)) for cell in nb.cells]


def test_solutions_name_their_cell_exercise_and_code():
    found = exercises.solutions(synthetic_notebook())
    assert [(s.cell, s.exercise, s.code) for s in found] == [
        (2, "Exercise 1: double it", ("y = 2 * x\nprint(y)",)),
        (3, "Exercise 2: think", ("# a comment with ::: and ## inside\nz = x + 1", "print(z)")),
    ]
    assert [s.text for s in found] == [BOX_1 + "\n", BOX_2]
    assert exercises.exercise_titles(synthetic_notebook()) == [
        "Exercise 1: double it", "Exercise 2: think", "Exercise 3: no box"]


def test_solutions_appended_after_the_chapter_one_cell_per_exercise():
    nb = synthetic_notebook()
    appended = exercises.with_solutions_appended(nb)
    assert cells(appended) == cells(nb) + [
        ("code", "solution-1", "# Solution of Exercise 1: double it\ny = 2 * x\nprint(y)"),
        ("code", "solution-2", ("# Solution of Exercise 2: think\n# a comment with ::: and ## inside\nz = x + 1\n\n"
                                "print(z)")),
    ]
    assert len(nb.cells) == 6  # the input is left alone
    nbformat.validate(appended)


def test_student_copy_replaces_every_box_by_a_stub():
    copy = exercises.student_copy(synthetic_notebook())
    assert cells(copy) == [
        ("markdown", "title", "# Chapter\n\nText."),
        ("code", "setup", "x = 2"),
        ("markdown", "notice", "## What to notice\n\nStuff.\n\n## Exercises\n\n" + exercises.STUDENT_NOTE
         + "\n\nWork in pairs.\n\n### Exercise 1: double it\n\nCompute 2x."),
        ("code", "exercise-1", "# Exercise 1: double it\n# your code here\n"),
        ("markdown", "notice-2", "### Exercise 2: think\n\nWhy?"),
        ("code", "exercise-2", "# Exercise 2: think\n# your code here\n"),
        ("code", "end", "end = 1"),
        ("markdown", "last", "### Exercise 3: no box\n\nJust think."),
        ("code", "exercise-3", "# Exercise 3: no box\n# your code here\n"),
        ("markdown", "last-2", "## Summary\n\nDone."),
    ]
    assert copy.cells[1].outputs == [] and copy.cells[1].execution_count is None
    assert copy.cells[6].metadata == {"tags": ["remove-cell"]}
    text = json.dumps(copy)
    for leaked in ("Solution", "Solutions are folded", "y = 2 * x", "z = x + 1", "print(z)", "It prints"):
        assert leaked not in text
    assert exercises.solutions(copy) == []
    nbformat.validate(copy)


def test_student_copy_of_a_notebook_with_solutions_appended_keeps_them_runnable():
    runnable = exercises.student_copy(exercises.with_solutions_appended(synthetic_notebook()))
    assert [c.id for c in runnable.cells if c.id.startswith("solution-")] == ["solution-1", "solution-2"]
    assert ":::{admonition}" not in json.dumps(runnable)


def test_a_notebook_without_exercises_is_left_as_it_is():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Appendix\n\n## Summary", id="a")])
    assert exercises.solutions(nb) == [] and exercises.exercise_titles(nb) == []
    assert cells(exercises.student_copy(nb)) == cells(nb) == cells(exercises.with_solutions_appended(nb))


@pytest.mark.parametrize("source,message", [
    ("## Exercises\n\n:::{admonition} Solution\nx\n:::", "cell 0: a solution box before the first '### Exercise'"),
    ("## Exercises\n\n### Exercise 1: a\n\n:::{admonition} Solution\n```python\nx = 1\n```\n",
     "cell 0: the solution box under 'Exercise 1: a' is not closed; end it with a line of :::"),
])
def test_malformed_sections_are_refused_by_cell(source, message):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)])
    with pytest.raises(ValueError, match=message):
        exercises.solutions(nb)


@pytest.mark.parametrize("bad,message", [
    ("book/lif_neurons.ipynb", "nb must be a Jupyter notebook .* got str"),
    ({"cells": "none"}, r"nb\['cells'\] must be a list of cells, got str"),
])
def test_a_value_that_is_not_a_notebook_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        exercises.student_copy(bad)


def test_reading_a_path_that_is_not_a_notebook(tmp_path):
    (tmp_path / "page.md").write_text("# Page")
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="path='.*page.md' must be an existing Jupyter notebook file"):
        exercises.read_notebook(tmp_path / "page.md")
    with pytest.raises(ValueError, match="path='.*missing.ipynb' must be an existing"):
        exercises.read_notebook(tmp_path / "missing.ipynb")
    with pytest.raises(ValueError, match="path='.*broken.ipynb' is not a readable Jupyter notebook"):
        exercises.read_notebook(tmp_path / "broken.ipynb")


@pytest.fixture
def small_book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(synthetic_notebook(), book / "chapter.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Appendix")]), book / "appendix.ipynb")
    (book / "teaching.md").write_text("Solutions are in boxes.")
    return book


def test_student_copies_are_written_for_chapters_only(small_book, tmp_path):
    out = tmp_path / "class" / "copies"
    written = exercises.write_student_copies(out, book_dir=small_book)
    assert written == [out / "chapter.ipynb"]
    assert sorted(p.name for p in out.iterdir()) == ["chapter.ipynb"]
    assert cells(nbformat.read(written[0], as_version=4)) == cells(exercises.student_copy(synthetic_notebook()))


def test_student_copies_refuse_a_file_the_book_itself_and_a_book_without_exercises(small_book, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="out_dir='.*file.txt' is a file; give a folder"):
        exercises.write_student_copies(tmp_path / "file.txt", book_dir=small_book)
    with pytest.raises(ValueError, match="is the book's own folder"):
        exercises.write_student_copies(small_book / ".", book_dir=small_book)
    with pytest.raises(ValueError, match="book_dir='.*nowhere' must be a folder"):
        exercises.write_student_copies(tmp_path / "out", book_dir=tmp_path / "nowhere")
    (small_book / "chapter.ipynb").unlink()
    with pytest.raises(ValueError, match="holds no notebook with a '## Exercises' section"):
        exercises.write_student_copies(tmp_path / "out", book_dir=small_book)
    assert not (tmp_path / "out").exists()


def test_the_command_line_writes_the_copies_and_says_so(small_book, tmp_path, capsys):
    assert main(["student-copies", str(tmp_path / "out"), "--book", str(small_book)]) == 0
    printed = capsys.readouterr().out
    assert f"{tmp_path / 'out' / 'chapter.ipynb'} (3 exercises)" in printed
    assert "1 student copy written" in printed
    (tmp_path / "file").write_text("")
    assert main(["student-copies", str(tmp_path / "file"), "--book", str(small_book)]) == 1
    assert "out_dir=" in capsys.readouterr().err


#: Chapters of the book: the notebooks with an exercises section.
CHAPTERS = sorted(path.stem for path in BOOK.glob("*.ipynb")
                  if exercises.exercise_titles(exercises.read_notebook(path)))


def test_the_book_has_chapters_with_exercises():
    assert {"lif_neurons", "event_data", "early_stop", "inpainting"} <= set(CHAPTERS)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_one_solution_with_python_code(chapter):
    nb = exercises.read_notebook(BOOK / f"{chapter}.ipynb")
    titles = exercises.exercise_titles(nb)
    found = exercises.solutions(nb)
    assert [s.exercise for s in found] == titles, f"{chapter}: every exercise needs exactly one solution box"
    assert [t.split(":")[0] for t in titles] == [f"Exercise {n}" for n in range(1, len(titles) + 1)]
    empty = [s.exercise for s in found if not s.code]
    assert not empty, f"{chapter}: solutions without a ```python block: {empty}"
    copy = exercises.student_copy(nb)
    text = json.dumps(copy, ensure_ascii=False)
    assert "{admonition} Solution" not in text
    leaked = [s.exercise for s in found for block in s.code if json.dumps(block, ensure_ascii=False)[1:-1] in text]
    assert not leaked, f"{chapter}: solution code left in the student copy: {leaked}"
    stubs = [c.source for c in copy.cells if c.cell_type == "code" and exercises.STUB_LINE in c.source]
    assert stubs == [f"# {title}\n{exercises.STUB_LINE}\n" for title in titles]


def execute_in_tiny_profile(nb) -> list[str]:
    """Run ``nb`` in a fresh python3 kernel (cwd book/, profile tiny, the tiny book build's data root) to its end,
    and return the errors of the cells that failed ("first line of the cell / error")."""
    from nbclient import NotebookClient

    env = dict(_ENV_AT_IMPORT, PRIMEKIT_PROFILE="tiny", PRIMEKIT_LOG="warning", PRIMEKIT_PROGRESS="summary")
    client = NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(BOOK)}})
    client.execute(env=env)
    return [f"{cell.source.splitlines()[0]}\n{output.ename}: {output.evalue}" for cell in nb.cells
            if cell.cell_type == "code" for output in cell.outputs if output.output_type == "error"]


@pytest.mark.book
def test_a_failing_solution_is_reported():
    nb = synthetic_notebook()
    nb.cells[3].source = nb.cells[3].source.replace("z = x + 1", "z = renamed_function(x)")
    runnable = exercises.student_copy(exercises.with_solutions_appended(nb))
    assert execute_in_tiny_profile(runnable) == [
        "# Solution of Exercise 2: think\nNameError: name 'renamed_function' is not defined"]
    assert runnable.cells[-2].outputs[0].text == "4\n"  # Exercise 1's solution ran, after the chapter's x = 2


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_copy_runs_with_every_solution_in_the_tiny_profile(chapter):
    nb = exercises.read_notebook(BOOK / f"{chapter}.ipynb")
    runnable = exercises.student_copy(exercises.with_solutions_appended(nb))
    appended = [cell for cell in runnable.cells if cell.id.startswith("solution-")]
    assert len(appended) == len(exercises.exercise_titles(nb))
    errors = execute_in_tiny_profile(runnable)
    assert not errors, f"{chapter}: cells failed:\n" + "\n\n".join(errors)
    assert all(cell.execution_count is not None for cell in appended)
