"""Build the whole book in the ``tiny`` profile with warnings as errors, then check the HTML.

This is the test that every notebook executes: a failing cell, a missing glue key or a Sphinx warning
fails the build. The output goes to ``_build/test``, never into ``make book``'s ``_build/html``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from primekit import pages

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "test"
HTML = OUT / "_build" / "html"
_ENV_AT_IMPORT = dict(os.environ)  # before any test fixture changes PRIMEKIT_DATA

pytestmark = pytest.mark.book


def toc_pages() -> list[str]:
    """Every page named in _toc.yml (without extension)."""
    return re.findall(r"(?:root|file):\s*(\S+)", (ROOT / "_toc.yml").read_text())


@pytest.fixture(scope="module")
def built_book() -> Path:
    env = dict(_ENV_AT_IMPORT, PRIMEKIT_PROFILE="tiny", PRIMEKIT_PROGRESS="summary",
               PRIMEKIT_LOG="warning")  # as `make book`
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", "--all", "-W", "--keep-going", "--path-output", str(OUT), str(ROOT)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    log = result.stdout + result.stderr
    (OUT / "build.log").parent.mkdir(parents=True, exist_ok=True)
    (OUT / "build.log").write_text(log)
    if result.returncode != 0:
        pytest.fail(f"jupyter-book build -W failed (exit {result.returncode}); last lines:\n{log[-6000:]}")
    return HTML


def test_every_toc_page_is_built(built_book):
    missing = [page for page in toc_pages() if not (built_book / f"{page}.html").is_file()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"
    assert (built_book / "index.html").is_file()


#: Figures each chapter must show at least (glued or displayed), a guard against silently empty pages.
MIN_FIGURES = {"lif_neurons": 4, "event_data": 4, "memristor_noise": 4, "subnet_scoring": 4, "early_stop": 6,
               "energy": 4, "noise_robustness": 3}


@pytest.mark.parametrize("chapter", sorted(MIN_FIGURES))
def test_notebook_figures_were_executed(built_book, chapter):
    if not (ROOT / "book" / f"{chapter}.ipynb").is_file():
        pytest.skip(f"book/{chapter}.ipynb is not written yet")
    page = (built_book / "book" / f"{chapter}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) >= MIN_FIGURES[chapter], f"expected the {chapter} chapter's executed figures, found {images}"
    for src in images:
        assert (built_book / "book" / src).resolve().is_file(), f"figure {src} missing from the build"
    assert "Traceback" not in page


def test_equations_render_offline(built_book):
    page = (built_book / "book" / "lif_neurons.html").read_text()
    assert "\\(" in page or "\\[" in page or "math notranslate" in page, "no equations on the LIF page"
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert scripts, "MathJax is not loaded on a page with equations"
    for src in scripts:
        assert not src.startswith(("http:", "https:", "//")), f"MathJax loaded from the network: {src}"
        assert (built_book / "book" / src.split("?")[0]).resolve().is_file(), f"{src} not in the build"


class _ResourceFinder(HTMLParser):
    """Collects URLs a browser would fetch when showing the page (not plain links)."""

    LOADING = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"),
               ("audio", "src"), ("video", "src"), ("embed", "src"), ("object", "data")}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, attr in self.LOADING:
            if tag == name and attrs.get(attr):
                self.urls.append(attrs[attr])
        if tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if any(word in rel for word in ("stylesheet", "preload", "icon", "modulepreload", "prefetch")):
                self.urls.append(attrs["href"])
        style = attrs.get("style") or ""
        self.urls += re.findall(r"url\(['\"]?([^'\")]+)", style)


def _is_remote(url: str) -> bool:
    return url.startswith(("http:", "https:", "//"))


def test_pages_load_nothing_from_the_network(built_book):
    remote = []
    for page in built_book.rglob("*.html"):
        finder = _ResourceFinder()
        text = page.read_text(errors="replace")
        finder.feed(text)
        remote += [f"{page.relative_to(built_book)}: {u}" for u in finder.urls if _is_remote(u)]
        remote += [f"{page.relative_to(built_book)}: @import {u}"
                   for u in re.findall(r"@import\s+(?:url\()?['\"]?(https?:[^'\")]+)", text)]
    for sheet in built_book.rglob("*.css"):
        text = sheet.read_text(errors="replace")
        remote += [f"{sheet.relative_to(built_book)}: {u}"
                   for u in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^'\")]+)", text)]
        remote += [f"{sheet.relative_to(built_book)}: @import {u}"
                   for u in re.findall(r"@import\s+['\"]((?:https?:)?//[^'\"]+)", text)]
    assert not remote, "the built book fetches from the network:\n" + "\n".join(sorted(set(remote))[:40])


def test_long_loops_report_one_line_each_not_bar_states(built_book):
    # With everything cached no loop runs, so this checks only that no page shows bar states; the summary
    # line itself is tested in test_progress.py.
    pages = {html.name: html.read_text() for html in (built_book / "book").glob("*.html")}
    for name, page in pages.items():
        assert "%|" not in page, f"{name} shows progress-bar states"


def test_pages_pass_the_reader_check(built_book):
    """No raw Markdown table, machine path, cache log, visible glue call or ASCII unit; every figure fits the
    column with fonts of 9 pt or more (primekit.pages)."""
    problems = pages.check_pages(built_book, toc_pages(), forbidden=(str(ROOT),))
    assert not problems, "\n".join(str(p) for p in problems)
