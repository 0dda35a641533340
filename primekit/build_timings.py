"""How long the book takes to build: cold (a fresh data root, nothing cached) and warm (everything cached).

``python -m primekit build-timings`` runs ``jupyter-book build --all`` twice on a fresh, temporary data
root (so the first build is what a fresh clone does after the install, and the second is a rebuild with
everything cached), reads each chapter's execution time from the build log, and writes the committed
timings file (``book/timings.json``, one record per profile): the README's table and the teacher guide's run
times come from it. Each record names the profile, the date, the machine and the commit it measured.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from primekit import paths, profiles
from primekit.experiments.early_stop_timing import machine_description

#: Where the timings are written, relative to the repository.
TIMINGS_FILE = Path("book") / "timings.json"
_EXECUTED = re.compile(r"book/(\w+)\.(?:ipynb|md): Executed notebook in ([\d.]+) seconds")
_README_START, _README_END = "<!-- build-timings:start -->", "<!-- build-timings:end -->"


def chapter_seconds(log: str) -> dict[str, float]:
    """Seconds each notebook took to execute, read from a Jupyter Book build log (MyST-NB's lines)."""
    clean = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return {name: float(seconds) for name, seconds in _EXECUTED.findall(clean)}


def timed_build(root: Path, data_root: Path, profile: str, out: Path) -> dict:
    """One ``jupyter-book build --all`` of ``root`` into ``out``: total wall seconds and per-chapter seconds."""
    env = dict(os.environ, PRIMEKIT_DATA=str(data_root), PRIMEKIT_PROFILE=profile, PRIMEKIT_PROGRESS="summary",
               PRIMEKIT_LOG="warning")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", "--all", "--path-output", str(out),
               str(root)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}):\n"
                           f"{(result.stdout + result.stderr)[-4000:]}")
    return {"total_s": round(seconds, 1), "chapters_s": chapter_seconds(result.stdout + result.stderr)}


def _commit(root: Path) -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def measure(profile: str = "book", keep: Path | None = None) -> dict:
    """Cold then warm build of the book in ``profile`` on a fresh temporary data root (``keep``: an empty or new
    folder that keeps the data root and the built HTML, e.g. to look at the pages afterwards)."""
    profiles.get_profile(profile, check=True)  # a clear error for an unknown profile or missing real data
    root = paths.repo_root()
    if root is None:
        raise RuntimeError("build-timings needs the repository checkout (pip install -e .)")
    if keep is not None and Path(keep).exists() and any(Path(keep).iterdir()):
        raise ValueError(f"keep={str(keep)!r} is not empty; give a new or empty folder (the cold build needs "
                         f"a fresh data root)")
    with tempfile.TemporaryDirectory(prefix="primekit-timings-") as folder:
        base = Path(keep) if keep is not None else Path(folder)
        data_root, out = base / "data", base / "build"
        cold = timed_build(root, data_root, profile, out)
        warm = timed_build(root, data_root, profile, out)
    return {"profile": profile, "measured_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "machine": machine_description(), "commit": _commit(root), "cold": cold, "warm": warm}


def readme_table(timings: dict) -> str:
    """The README's Markdown table of a timings record: per chapter and in total, cold and warm."""
    cold, warm = timings["cold"], timings["warm"]
    lines = [f"`make book`, profile `{timings['profile']}`, measured {timings['measured_at']} UTC on "
             f"{timings['machine']} (commit {timings['commit']}; `python -m primekit build-timings`):", "",
             "| chapter | first build (s) | cached rebuild (s) |", "|---|---|---|"]
    for name in sorted(cold["chapters_s"], key=lambda n: -cold["chapters_s"][n]):
        lines.append(f"| {name} | {cold['chapters_s'][name]:.0f} | {warm['chapters_s'].get(name, float('nan')):.0f} |")
    lines.append(f"| **whole build** (with Sphinx) | **{cold['total_s'] / 60:.1f} min** | **{warm['total_s']:.0f} s** |")
    return "\n".join(lines)


def read(root: Path | None = None) -> dict[str, dict]:
    """The committed timings, one record per profile (``{"book": {...}, "tiny": {...}}``); empty if none."""
    target = (root or paths.repo_root()) / TIMINGS_FILE
    if not target.is_file():
        return {}
    try:
        stored = json.loads(target.read_text())
    except ValueError as error:
        raise ValueError(f"{target} is not valid JSON ({error}); rerun `make timings`") from None
    if "profile" in stored:  # the first format: one record
        return {stored["profile"]: stored}
    return stored


def write(timings: dict, root: Path | None = None) -> Path:
    """Store ``timings`` as its profile's record in ``book/timings.json`` (other profiles' records are kept) and
    refresh the README's table (the ``book`` profile's, when there is one)."""
    root = root or paths.repo_root()
    target = root / TIMINGS_FILE
    records = {**read(root), timings["profile"]: timings}
    target.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    readme = root / "README.md"
    text = readme.read_text()
    shown = records.get("book", timings)
    if _README_START in text and _README_END in text:
        head, rest = text.split(_README_START, 1)
        _, tail = rest.split(_README_END, 1)
        readme.write_text(f"{head}{_README_START}\n{readme_table(shown)}\n{_README_END}{tail}")
    return target
