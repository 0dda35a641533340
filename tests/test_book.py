"""Build the whole book in the ``tiny`` profile with warnings as errors, then check the HTML.

This is the test that every notebook executes: a failing cell, a missing glue key or a Sphinx warning
fails the build. The output goes to ``_build/test``, never into ``make book``'s ``_build/html``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

import primekit
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


# API reference (book/api): pages that autodoc builds from primekit's docstrings.

#: Objects whose signature and docstring the API reference must show, by the page that documents them.
API_OBJECTS = {
    "book/api/snn": ["primekit.snn.subnet.topk_mask", "primekit.snn.timeloop.run", "primekit.snn.neurons.lif_step"],
    "book/api/chip": ["primekit.chip.memristor.MemristorConfig", "primekit.chip.deploy.deploy"],
    "book/api/inference": ["primekit.inference.early_stop.run_early_stop", "primekit.inference.evaluate.run_split"],
    "book/api/top": ["primekit.cache.load_or_run"],
}


def _api_pages(html_root: Path) -> dict[str, str]:
    return {page: (html_root / f"{page}.html").read_text() for page in toc_pages() if page.startswith("book/api/")}


def _plain(html_text: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


def _object(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def public_modules() -> list[str]:
    """Every primekit module a user may import: no part of its name starts with an underscore (but __main__)."""
    names = ["primekit"] + [m.name for m in pkgutil.walk_packages(primekit.__path__, "primekit.")]
    return sorted(n for n in names if not any(p.startswith("_") and p != "__main__" for p in n.split(".")))


@pytest.mark.parametrize("page,name", [(p, n) for p, names in API_OBJECTS.items() for n in names])
def test_api_pages_show_signatures_and_docstrings(built_book, page, name):
    html = (built_book / f"{page}.html").read_text()
    found = re.search(rf'<dt class="sig sig-object py" id="{re.escape(name)}">(.*?)</dt>\s*<dd>(.{{0,4000}})',
                      html, flags=re.DOTALL)
    assert found, f"{name} is not documented on {page}"
    shown = [re.split(r"[:=]", _plain(p))[0].strip().lstrip("*")
             for p in re.findall(r'<em class="sig-param">(.*?)</em>', found.group(1), flags=re.DOTALL)]
    actual = list(inspect.signature(_object(name)).parameters)
    assert [p for p in shown if p not in ("", "/")] == actual, f"{name}: {page} shows parameters {shown}, not {actual}"
    summary = re.sub(r"`[^`]*`", " ", inspect.getdoc(_object(name)).splitlines()[0])  # words outside markup
    description = _plain(found.group(2))
    missing = [word for word in re.findall(r"[A-Za-z]{4,}", summary) if word not in description]
    assert not missing, f"{name}: the docstring's first line is not shown ({missing} missing from {description[:200]!r})"


def test_every_public_module_is_on_one_api_page(built_book):
    api = _api_pages(built_book)
    places = {module: [page for page, html in api.items() if f'id="module-{module}"' in html]
              for module in public_modules()}
    missing = sorted(m for m, where in places.items() if not where)
    assert not missing, f"modules on no API page (add '.. automodule::' to a page in book/api): {missing}"
    twice = {m: where for m, where in places.items() if len(where) > 1}
    assert not twice, f"modules documented on more than one API page: {twice}"


def test_api_pages_read_primekit_docstrings_as_written(built_book):
    """book/api/docstring_prose.py: napoleon neither makes the start of a prose docstring a *type*
    (``#: How a chip reads a batch: ...``) nor merges several names of an ``Attributes:`` entry into one."""
    for page, html in _api_pages(built_book).items():
        assert '>Type<span class="colon">' not in html, f"{page}: a docstring's first words shown as its type"
        merged = re.search(r"<strong>\w+</strong> \((?:<em>\w+</em><em>, ?</em>)+\)", html)
        assert not merged, f"{page}: several fields shown as one: {_plain(merged.group(0))!r}"
    chip = _api_pages(built_book)["book/api/chip"]
    fields = re.findall(r"<strong>(\w+)</strong>", chip)
    assert {"g_min_us", "g_max_us"} <= set(fields)  # documented together as "g_min_us, g_max_us: ..."



def test_reproduce_writes_fig_3b_from_the_tiny_build(built_book, tmp_path):
    # the tiny build's chapters recorded their results; reproduce copies 3b's figure and data, running nothing
    env = dict(_ENV_AT_IMPORT, PRIMEKIT_PROFILE="tiny", PRIMEKIT_LOG="warning", PRIMEKIT_PROGRESS="summary")
    out = tmp_path / "figures"
    result = subprocess.run([sys.executable, "-m", "primekit", "reproduce", "--profile", "tiny", "--only", "3b",
                             "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["3b.json", "3b.png", "3b.svg"]
    record = json.loads((out / "3b.json").read_text())
    assert record["key"] == "3b" and record["meta"]["profile"] == "tiny" and record["data"]
    assert (out / "3b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status = next(line for line in result.stdout.splitlines() if line.startswith("Fig. 3b"))
    assert any(word in status for word in ("same pattern", "differs", "reproduced")), status
