"""A course from the book: sessions, reading time, run times (from the committed build timings) and exercises.

The Teacher guide page (``book/teaching.ipynb``) glues these tables; every number in them is computed here
from the notebooks and ``book/timings.json`` (written by ``python -m primekit build-timings``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from primekit.tables import Table

#: Reading speed (words per minute) of a technical text read with care.
WORDS_PER_MINUTE = 150


@dataclass(frozen=True)
class Session:
    """One class meeting: its title, the chapters (notebook stems) it covers, and what students practise."""

    title: str
    chapters: tuple[str, ...]
    practice: str


#: The suggested course: five sessions in the order of the book.
SESSIONS: tuple[Session, ...] = (
    Session("Spikes and events", ("lif_neurons", "event_data"),
            "derive a LIF neuron's firing condition; bin events into frames"),
    Session("Random weights, chosen topology", ("memristor_noise", "subnet_scoring"),
            "program a chip with noise; train a subnet by its scores"),
    Session("Input-aware inference and its energy", ("early_stop", "energy"),
            "replay a threshold sweep; price a network's operations"),
    Session("Noise robustness", ("noise_robustness",), "compare noise models and explain an accuracy drop"),
    Session("Inpainting and the ledger", ("inpainting", "what_we_reproduced"),
            "run the consistency stop; judge which of the paper's results hold"),
)


def _markdown_words(text: str) -> int:
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)          # code blocks (solutions) are run, not read
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " 0 ", text)             # a glued value reads as one word
    return len(re.findall(r"[\w°µ%×θεσ]+", text))


def reading_minutes(notebook: str | Path, words_per_minute: float = WORDS_PER_MINUTE) -> float:
    """Minutes to read a chapter's Markdown cells (code blocks excluded) at ``words_per_minute``."""
    path = Path(notebook)
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"notebook={str(path)!r} is not a readable notebook ({type(error).__name__})") from None
    words = sum(_markdown_words("".join(c["source"])) for c in cells if c["cell_type"] == "markdown")
    return words / words_per_minute


def _seconds(timings: Mapping[str, dict], profile: str, build: str, chapter: str) -> float | None:
    return timings.get(profile, {}).get(build, {}).get("chapters_s", {}).get(chapter)


def _time_cell(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def chapter_table(book: Path, timings: Mapping[str, dict], chapters: Sequence[str]) -> Table:
    """Per chapter: reading time, and the execution time of its first run (cold cache) and of a rerun (cached)
    in the ``tiny`` and ``book`` profiles, as the committed timings measured them ("-" where not measured)."""
    rows = []
    for name in chapters:
        times = [_time_cell(_seconds(timings, p, b, name)) for p in ("tiny", "book") for b in ("cold", "warm")]
        rows.append((name, f"{reading_minutes(book / f'{name}.ipynb'):.0f} min", *times))
    return Table.of(("chapter", "reading", "tiny, first run", "tiny, cached", "book, first run", "book, cached"),
                    rows)


def session_table(book: Path, sessions: Sequence[Session] = SESSIONS, exercises: Mapping[str, int] | None = None,
                  *, links: bool = True) -> Table:
    """One row per session: its chapters (as ``{doc}`` links for the book), their total reading time, the
    exercises they hold (``exercises``: count per chapter), what students practise."""
    exercises = exercises or {}
    rows = []
    for number, s in enumerate(sessions, start=1):
        minutes = sum(reading_minutes(book / f"{c}.ipynb") for c in s.chapters)
        count = sum(exercises.get(c, 0) for c in s.chapters)
        chapters = ", ".join(f"{{doc}}`{c}`" if links else c for c in s.chapters)
        rows.append((f"{number}. {s.title}", chapters, f"{minutes:.0f} min", str(count), s.practice))
    return Table.of(("session", "chapters", "reading", "exercises", "students practise"), rows)


def training_chapters(book: Path, chapters: Sequence[str]) -> list[str]:
    """The chapters (in the given order) whose code trains the shared N-MNIST networks (calls ``train_method``)."""
    found = []
    for name in chapters:
        cells = json.loads((book / f"{name}.ipynb").read_text())["cells"]
        if any("train_method(" in "".join(c["source"]) for c in cells if c["cell_type"] == "code"):
            found.append(name)
    return found


def first_run_note(book: Path, chapters: Sequence[str]) -> str:
    """Which chapter pays for training the shared networks: the first of :func:`training_chapters` to run,
    in the course's order and in ``make book``'s (alphabetical), in words."""
    trainers = training_chapters(book, chapters)
    if not trainers:
        return "No chapter trains a network."
    alphabetical = min(trainers)
    return (f"The N-MNIST networks are trained by the first of {', '.join(trainers)} to run, and the cache shares "
            f"them with the others: in the course's order that is {trainers[0]}, in `make book` (which runs "
            f"chapters alphabetically, and whose timings these are) {alphabetical}. The inpainting chapter "
            "trains its own networks.")
