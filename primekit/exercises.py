"""The chapters' exercises and solutions: find them, run them, hand out notebooks without them.

Every chapter notebook ends with a ``## Exercises`` section: one ``### Exercise N: title`` heading per
exercise, each followed by a MyST box ``:::{admonition} Solution`` / ``:class: dropdown`` holding prose and
fenced Python blocks (three backticks and ``python``). The book never executes those blocks (a student's
half-finished attempt must not break a chapter), so nothing would notice a solution broken by a renamed
function. Hence:

- :func:`solutions` lists every solution box: the cell holding it, its exercise, its code blocks;
- :func:`with_solutions_appended` adds every solution's code at the end of the notebook as code cells, so
  one execution runs the chapter and then every solution (``tests/test_exercises.py`` does, profile ``tiny``);
- :func:`student_copy` removes every solution box and leaves a stub code cell in its place;
- :func:`write_student_copies` (``python -m primekit student-copies OUT``) writes every chapter's copy.

The section ends at the next heading of level 1 or 2 (``## Summary``), which may sit in the same cell.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from primekit import paths
from primekit.checks import check_instance

#: The stub a student copy puts where a solution box was (after a comment naming the exercise).
STUB_LINE = "# your code here"
#: What a student copy says at the top of its exercises section, instead of the book's remark on solutions.
STUDENT_NOTE = ("This copy has no solutions: they are in the book, folded under each exercise. "
                "Write your answer in the code cell below each exercise.")

_SECTION_START = re.compile(r"^##\s+Exercises\s*$")
_SECTION_END = re.compile(r"^#{1,2}\s")
_EXERCISE = re.compile(r"^###\s+(.+?)\s*#*\s*$")
_BOX_OPEN = re.compile(r"^(:{3,})\{admonition\}\s+Solution\b")
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^`\s]*)")
_PYTHON = {"python", "python3", "py", "ipython", "ipython3"}


@dataclass(frozen=True)
class Solution:
    """One solution box of a notebook.

    Attributes:
        cell: index of the Markdown cell that holds the box.
        exercise: the heading of its exercise, e.g. ``"Exercise 2: the temperature"``.
        code: the box's fenced Python blocks, in order, without their fences.
        text: the whole box as written, fences and colons included.
    """

    cell: int
    exercise: str
    code: tuple[str, ...]
    text: str


@dataclass
class _Segment:
    """A run of lines of one Markdown cell: ``kind`` is "text" (kept), "intro" (between the section heading
    and the first exercise), "box" (a solution box) or "missing" (where an exercise without a box ends)."""

    kind: str
    lines: list[str]
    exercise: str | None = None


def _check_notebook(nb, name: str = "nb"):
    """``nb`` as an nbformat v4 notebook; raise naming ``name`` unless it is one (a dict is converted)."""
    check_instance(name, nb, dict, "a Jupyter notebook (as nbformat.read returns it)")
    check_instance(f"{name}['cells']", nb.get("cells"), list, "a list of cells")
    return nb if isinstance(nb, nbformat.NotebookNode) else nbformat.from_dict(nb)


def _closes(line: str, marker: str) -> bool:
    """Whether ``line`` closes a fence opened by ``marker`` (at least as many of the same character, alone)."""
    stripped = line.strip()
    return len(stripped) >= len(marker) and set(stripped) == {marker[0]}


class _Scanner:
    """Walks the Markdown cells of a notebook in order, carrying the section and exercise across cells."""

    def __init__(self) -> None:
        self.in_section = False
        self.exercise: str | None = None
        self.boxed = False  # whether the current exercise has had a solution box
        self.exercises: list[str] = []
        self.segments: list[_Segment] = []
        self.current = _Segment("text", [])

    def _flush(self, kind_after: str) -> None:
        if self.current.lines or self.current.kind == "missing":
            self.segments.append(self.current)
        self.current = _Segment(kind_after, [], self.exercise)

    def cell(self, index: int, source: str) -> tuple[list[_Segment], bool]:
        """The segments of one cell's ``source`` and whether any of it lies in the exercises section."""
        self.segments, self.current, touched = [], _Segment("text", []), self.in_section
        fence = box = None
        for line in source.splitlines(keepends=True):
            if fence:  # inside a code block, in a box or not: nothing is structure
                self.current.lines.append(line)
                fence = None if _closes(line, fence) else fence
                continue
            if box:
                self.current.lines.append(line)
                if (opened := _FENCE.match(line)) is not None:
                    fence = opened.group(1)
                elif _closes(line, box):
                    box = None
                    self._flush("text")
                continue
            heading = _EXERCISE.match(line) if self.in_section else None
            if not self.in_section and not self.exercises and _SECTION_START.match(line):
                self.in_section = touched = True
                self._flush("intro")
            elif self.in_section and (heading or _SECTION_END.match(line)):
                if self.exercise is not None and not self.boxed:
                    self._flush("missing")  # the stub of an exercise without a solution box goes where it ends
                if heading:
                    self.exercise, self.boxed = heading.group(1), False
                    self.exercises.append(self.exercise)
                else:
                    self.in_section, self.exercise = False, None
                self._flush("text")
            elif self.in_section and (opened := _BOX_OPEN.match(line)):
                if self.exercise is None:
                    raise ValueError(f"cell {index}: a solution box before the first '### Exercise' heading of the "
                                     f"exercises section; every solution belongs under its exercise's heading")
                box, self.boxed = opened.group(1), True
                self._flush("box")
            elif (opened := _FENCE.match(line)) is not None:
                fence = opened.group(1)
            self.current.lines.append(line)
        if box:
            raise ValueError(f"cell {index}: the solution box under '{self.exercise}' is not closed; end it with a "
                             f"line of {box}")
        self._flush("text")
        return self.segments, touched


def _scan(nb) -> tuple[dict[int, list[_Segment]], list[str]]:
    """The segments of every Markdown cell that reaches into the exercises section (by cell index), and the
    exercise headings in order."""
    scanner, cells = _Scanner(), {}
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "markdown":
            segments, touched = scanner.cell(index, "".join(cell.get("source", "")))
            if touched:
                cells[index] = segments
    if scanner.in_section and scanner.exercise is not None and not scanner.boxed:
        cells[max(cells)].append(_Segment("missing", [], scanner.exercise))  # the last exercise ends the notebook
    return cells, scanner.exercises


def exercise_titles(nb) -> list[str]:
    """The headings of the exercises (``### ...`` under ``## Exercises``) of a notebook, in order."""
    return _scan(_check_notebook(nb))[1]


def _code_blocks(lines: list[str]) -> tuple[str, ...]:
    """The contents of the Python code fences among ``lines``."""
    blocks, current, fence = [], None, None
    for line in lines:
        if fence is None:
            opened = _FENCE.match(line)
            if opened is not None:
                fence, current = opened.group(1), [] if opened.group(2).lower() in _PYTHON else None
        elif _closes(line, fence):
            if current is not None:
                blocks.append("".join(current).rstrip("\n"))
            fence = current = None
        elif current is not None:
            current.append(line)
    return tuple(blocks)


def solutions(nb) -> list[Solution]:
    """Every solution box of the notebook's exercises section, in order."""
    cells, _ = _scan(_check_notebook(nb))
    return [Solution(index, segment.exercise, _code_blocks(segment.lines), "".join(segment.lines))
            for index, segments in cells.items() for segment in segments if segment.kind == "box"]


def _id_maker(nb):
    """A function giving cell ids that no cell of ``nb`` has yet (the wanted one if free, else with a suffix)."""
    taken = {cell.get("id") for cell in nb["cells"]}

    def new_id(wanted: str) -> str:
        candidate, n = wanted[:60], 2
        while candidate in taken:
            candidate, n = f"{wanted[:56]}-{n}", n + 1
        taken.add(candidate)
        return candidate
    return new_id


def with_solutions_appended(nb):
    """A copy of ``nb`` ending with one code cell per exercise that has solution code: the code blocks of its
    solution box(es), headed by ``# Solution of <exercise heading>``, with ids ``solution-1``, ``solution-2``, ..."""
    nb = _check_notebook(nb)
    result = copy.deepcopy(nb)
    new_id = _id_maker(result)
    by_exercise: dict[str, list[str]] = {}
    for solution in solutions(nb):
        by_exercise.setdefault(solution.exercise, []).extend(solution.code)
    for number, (exercise, code) in enumerate(((e, c) for e, c in by_exercise.items() if c), start=1):
        source = f"# Solution of {exercise}\n" + "\n\n".join(code)
        result.cells.append(nbformat.v4.new_code_cell(source, id=new_id(f"solution-{number}")))
    return result


def _stub(exercise: str, new_id) -> nbformat.NotebookNode:
    number = re.match(r"Exercise\s+(\w+)", exercise)
    return nbformat.v4.new_code_cell(f"# {exercise}\n{STUB_LINE}\n",
                                     id=new_id(f"exercise-{number.group(1) if number else 'stub'}"))


def _intro(lines: list[str]) -> list[str]:
    """The section heading and its intro with paragraphs about solutions replaced by :data:`STUDENT_NOTE`."""
    heading, paragraphs = lines[:1], re.split(r"\n\s*\n", "".join(lines[1:]).strip("\n"))
    kept = [p for p in paragraphs if p.strip() and "solution" not in p.lower()]
    return heading + ["\n" + "\n\n".join([STUDENT_NOTE, *kept]) + "\n\n"]


def _split_cell(cell, segments: list[_Segment], new_id, stubbed: set[str]) -> list:
    """One Markdown cell of the exercises section as the student copy's cells: its text (the intro rewritten),
    cut where a solution box was, and a stub for each exercise not yet stubbed."""
    cells, text, parts = [], [], []

    def flush_text() -> None:
        source = "".join(text).strip("\n")
        if source:
            part = copy.deepcopy(cell)
            part.source = source
            if parts:
                part.id = new_id(f"{cell.get('id', 'cell')}-{len(parts) + 1}")
            parts.append(part)
            cells.append(part)
        text.clear()

    for segment in segments:
        if segment.kind in ("box", "missing"):
            flush_text()
            if segment.exercise not in stubbed:
                cells.append(_stub(segment.exercise, new_id))
                stubbed.add(segment.exercise)
        else:
            text.extend(_intro(segment.lines) if segment.kind == "intro" else segment.lines)
    flush_text()
    return cells


def student_copy(nb):
    """A copy of ``nb`` for students: every solution box replaced by a stub code cell naming its exercise
    (``# Exercise 2: ...`` then :data:`STUB_LINE`), one per exercise; an exercise without a box gets its stub
    where it ends. The intro of the section says that solutions are in the book (:data:`STUDENT_NOTE`); code
    cells lose their outputs. A Markdown cell cut by a box keeps its id on its first part."""
    nb = _check_notebook(nb)
    sections, _ = _scan(nb)
    result = copy.deepcopy(nb)
    new_id = _id_maker(result)
    new_cells, stubbed = [], set()
    for index, cell in enumerate(result.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        new_cells += _split_cell(cell, sections[index], new_id, stubbed) if index in sections else [cell]
    result.cells = new_cells
    return result


def read_notebook(path: str | os.PathLike):
    """The notebook at ``path`` (nbformat v4); a clear error for a path that is not a readable ``.ipynb``."""
    path = Path(path)
    if path.suffix != ".ipynb" or not path.is_file():
        raise ValueError(f"path={str(path)!r} must be an existing Jupyter notebook file (.ipynb)")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several kinds for a broken file (NotJSONError, KeyError, ...)
        raise ValueError(f"path={str(path)!r} is not a readable Jupyter notebook: {error}") from error


def write_student_copies(out_dir: str | os.PathLike, book_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write the student copy (:func:`student_copy`) of every notebook in ``book_dir`` that has exercises into
    ``out_dir`` (created if needed; copies already there are replaced) and return the files written.

    Nothing else is copied: the Markdown pages and notebooks without exercises hold no exercises to hand out,
    and the copies import primekit like the book does. ``book_dir`` defaults to ``book/`` of this checkout.
    """
    if book_dir is None:
        root = paths.repo_root()
        if root is None:
            raise ValueError("book_dir=None: primekit is not installed from a checkout of the book; give the folder "
                             "that holds the chapter notebooks")
        book_dir = root / "book"
    book_dir, out_dir = Path(book_dir), Path(out_dir)
    if not book_dir.is_dir():
        raise ValueError(f"book_dir={str(book_dir)!r} must be a folder holding the chapter notebooks")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir={str(out_dir)!r} is a file; give a folder (new or existing) for the copies")
    if out_dir.resolve() == book_dir.resolve():
        raise ValueError(f"out_dir={str(out_dir)!r} is the book's own folder; the copies would replace the chapters")
    chapters = [(path, nb) for path in sorted(book_dir.glob("*.ipynb"))
                if exercise_titles(nb := read_notebook(path))]
    if not chapters:
        raise ValueError(f"book_dir={str(book_dir)!r} holds no notebook with a '## Exercises' section")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, nb in chapters:
        target = out_dir / path.name
        nbformat.write(student_copy(nb), target)
        written.append(target)
    return written
