"""The built book as a reader sees it: a page check, and screenshots from the system's headless Chromium.

:func:`check_pages` parses built HTML pages and lists what a reader should never meet: Markdown tables shown
as raw ``| a | b |`` text, machine paths or cache logs in outputs, glue calls in visible code, ASCII units
(``uS``, ``uJ``) or a percentage without its space (``2%``; the book writes ``2 %``) in the text, and figures wider than the text column or with fonts below 9 pt at the size the
page shows them. Figures carry their smallest font size in their PNG (written by
:func:`primekit.plots.figure_png`), so the check reads it instead of guessing from pixels.

:func:`screenshots` writes one full-length PNG per page (``python -m primekit pages --screenshots DIR``) and
lists what sticks out of the text column there (a table too wide, a table scrolling): that needs a browser's
layout, so it is part of the screenshots, not of the check that ``make test`` runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path

#: Width of the theme's text column at its default window width (CSS px).
COLUMN_PX = 772
#: Smallest font a figure may show at its rendered size (pt).
MIN_FONT_PT = 9.0
#: CSS pixels per inch: a PNG of ``n`` pixels at ``dpi`` shows ``n / dpi * 96`` CSS px wide at 100 % zoom.
CSS_PX_PER_INCH = 96
#: The PNG text key in which :func:`primekit.plots.figure_png` records the smallest font (pt).
FONT_KEY = "primekit:smallest_font_pt"
#: The PNG text key listing ASCII units found in a figure's text (empty when none).
UNITS_KEY = "primekit:ascii_units"

ASCII_UNITS = re.compile(r"(?<![\w/])(?:\d[\d.,]*\s*)?(uS|uJ|uA|uW)\b")
_TIGHT_PERCENT = re.compile(r"\d%")
_RAW_TABLE = re.compile(r"\|\s*:?-{3,}:?\s*\|")
_MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:home|work|tmp|root|Users|usr|opt|var|mnt|srv)/[\w.-]+")
_CACHE_LOG = re.compile(r"\[primekit[ .]cache\]")
_GLUE_CALL = re.compile(r"\bglue(?:_values)?\(")


@dataclass(frozen=True)
class Problem:
    """One thing a reader should not see: the page and what is wrong."""

    page: str
    what: str

    def __str__(self) -> str:
        return f"{self.page}: {self.what}"


@dataclass
class _Figure:
    src: str
    width: float | None  # the width attribute (CSS px), if the page sets one


class _PageParser(HTMLParser):
    """Splits a page's article into prose, code input and outputs, and lists its figures."""

    _VOID = frozenset({"img", "br", "hr", "meta", "link", "input", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.prose: list[str] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.figures: list[_Figure] = []
        self._stack: list[tuple[str, str]] = []  # (tag, role) of each open element
        self._in_article = 0

    def _role(self) -> str:
        for _, role in reversed(self._stack):
            if role:
                return role
        return ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        role = ""
        if "cell_input" in classes:
            role = "input"
        elif "cell_output" in classes or "output" in classes:
            role = "output"
        elif tag in ("pre", "code", "kbd", "script", "style") or "pre" in classes:
            role = "code"
        if "bd-article" in classes or tag == "article":
            self._in_article += 1
            role = role or "article"
        if tag == "img":
            if self._in_article:
                width = attributes.get("width") or _style_width(attributes.get("style") or "")
                self.figures.append(_Figure(attributes.get("src", ""), _css_px(width)))
            return
        if tag not in self._VOID:
            self._stack.append((tag, role))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                if self._stack[i][1] == "article" or (tag == "article"):
                    self._in_article = max(0, self._in_article - 1)
                del self._stack[i:]
                return

    def handle_data(self, data):
        if not self._in_article:
            return
        roles = [role for _, role in self._stack]
        if "input" in roles:
            self.inputs.append(data)
        elif "output" in roles:
            if "code" not in roles or not _is_code_literal(self._stack):
                self.outputs.append(data)
        elif "code" not in roles:
            self.prose.append(data)


def _is_code_literal(stack) -> bool:
    """An inline ``<code>`` inside an output (a table cell in backticks) is code, a ``<pre>`` output is text."""
    return any(tag == "code" for tag, _ in stack) and not any(tag == "pre" for tag, _ in stack)


def _style_width(style: str) -> str | None:
    match = re.search(r"width:\s*([\d.]+)px", style)
    return match.group(1) if match else None


def _css_px(value) -> float | None:
    if value is None:
        return None
    match = re.fullmatch(r"\s*([\d.]+)\s*(px)?\s*", str(value))
    return float(match.group(1)) if match else None


def check_page(html_file: Path, name: str | None = None, forbidden: tuple[str, ...] = ()) -> list[Problem]:
    """Every problem on one built page (``forbidden``: extra strings, e.g. the build folder, never to show)."""
    name = name or html_file.stem
    parser = _PageParser()
    parser.feed(Path(html_file).read_text(encoding="utf-8"))
    prose, inputs, outputs = "".join(parser.prose), "".join(parser.inputs), "".join(parser.outputs)
    problems = []
    for where, text in (("text", prose), ("an output", outputs)):
        if _RAW_TABLE.search(text):
            problems.append(Problem(name, f"a Markdown table shown as raw text in {where}"))
        for match in sorted(set(ASCII_UNITS.findall(text))):
            problems.append(Problem(name, f"ASCII unit {match!r} in {where} (write µ{match[1]})"))
        found = _TIGHT_PERCENT.search(text)
        if found:
            context = " ".join(text[max(0, found.start() - 20):found.end() + 12].split())
            problems.append(Problem(name, f"a percentage without a space in {where}: {context!r} (write 2 %)"))
    for pattern, what in ((_MACHINE_PATH, "a machine path"), (_CACHE_LOG, "a cache log line")):
        found = pattern.search(outputs)
        if found:
            problems.append(Problem(name, f"{what} in an output: {found.group(0)!r}"))
    for text in forbidden:
        if text and text in outputs:
            problems.append(Problem(name, f"{text!r} in an output"))
    found = _GLUE_CALL.search(inputs)
    if found:
        problems.append(Problem(name, "a glue call in a visible code cell (tag the cell remove-cell)"))
    for figure in parser.figures:
        problems += _check_figure(Path(html_file).parent, figure, name)
    return problems


def _check_figure(folder: Path, figure: _Figure, name: str) -> list[Problem]:
    if not figure.src.lower().endswith(".png") or figure.src.startswith(("http:", "https:", "data:")):
        return []
    from PIL import Image

    path = (folder / figure.src).resolve()
    label = Path(figure.src).name[:12]
    if not path.is_file():
        return [Problem(name, f"figure {label} is missing from the build")]
    with Image.open(path) as image:
        pixels = image.size[0]
        dpi = float(image.info.get("dpi", (CSS_PX_PER_INCH,))[0]) or CSS_PX_PER_INCH
        text = getattr(image, "text", {}) or {}
    natural = pixels / dpi * CSS_PX_PER_INCH
    shown = figure.width if figure.width is not None else natural
    problems = []
    if shown > COLUMN_PX + 0.5:
        problems.append(Problem(name, f"figure {label} is {shown:.0f} px wide, wider than the {COLUMN_PX} px column"))
    if FONT_KEY not in text:
        problems.append(Problem(name, f"figure {label} was not rendered by primekit.plots.figure_png "
                                      f"(no record of its fonts)"))
    else:
        smallest = float(text[FONT_KEY]) * min(shown, COLUMN_PX) / natural
        if smallest < MIN_FONT_PT - 0.05:
            problems.append(Problem(name, f"figure {label} shows text at {smallest:.1f} pt, below {MIN_FONT_PT:g} pt"))
    if text.get(UNITS_KEY):
        problems.append(Problem(name, f"figure {label} writes {text[UNITS_KEY]} (use µ)"))
    return problems


def toc_pages(root: Path) -> list[str]:
    """Every page named in ``root/_toc.yml`` (paths without extension, e.g. ``book/energy``)."""
    return re.findall(r"(?:root|file):\s*(\S+)", (Path(root) / "_toc.yml").read_text())


def check_pages(html_root: Path, pages: list[str], forbidden: tuple[str, ...] = ()) -> list[Problem]:
    """:func:`check_page` for every page (names relative to ``html_root`` without ``.html``)."""
    problems = []
    for page in pages:
        html_file = Path(html_root) / f"{page}.html"
        if not html_file.is_file():
            problems.append(Problem(page, f"not built ({html_file.name} missing)"))
            continue
        problems += check_page(html_file, page, forbidden)
    return problems


def find_chromium() -> str | None:
    """The system's headless-capable Chromium or Chrome, if one is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


_MEASURE = """<html><body style="margin:0"><iframe id="page" src="{url}" style="width:{width}px;height:800px;border:0">
</iframe><script>document.getElementById('page').onload = function () {{
  var doc = this.contentDocument, article = doc.querySelector('.bd-article') || doc.body, lines = [];
  var right = article.getBoundingClientRect().right + 1;
  doc.querySelectorAll('.bd-article table, .bd-article img, .bd-article pre').forEach(function (el) {{
    var box = el.parentElement, scrolls = box && box.scrollWidth > box.clientWidth + 1 && box !== article;
    if (el.getBoundingClientRect().right > right || (el.tagName === 'TABLE' && scrolls)) {{
      var text = (el.innerText || el.getAttribute('src') || '').replace(/\\s+/g, ' ').slice(0, 60);
      lines.push('overflow: ' + el.tagName.toLowerCase() + ' "' + text + '"'); }} }});
  var out = document.createElement('pre'); out.id = 'measure';
  out.textContent = 'page-height=' + doc.documentElement.scrollHeight + '\\n' + lines.join('\\n');
  document.body.appendChild(out); }};</script></body></html>"""


def _chromium(browser: str, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--allow-file-access-from-files", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def measure_page(browser: str, html_file: Path, width: int = 1280) -> tuple[int, list[str]]:
    """``(height, overflows)``: the page's full height (CSS px) shown ``width`` px wide, and every table,
    image or code block wider than the text column (or a table scrolling inside it), measured in the browser."""
    with tempfile.TemporaryDirectory() as folder:
        wrapper = Path(folder) / "measure.html"
        wrapper.write_text(_MEASURE.format(url=Path(html_file).resolve().as_uri(), width=width))
        result = _chromium(browser, "--virtual-time-budget=10000", "--dump-dom", wrapper.as_uri())
    match = re.search(r"page-height=(\d+)", result.stdout)
    if not match:
        raise RuntimeError(f"could not measure {html_file.name} in {browser}: {result.stderr[-500:]}")
    overflows = [html_unescape(line) for line in re.findall(r"^overflow: [^<\n]*", result.stdout, flags=re.MULTILINE)]
    return int(match.group(1)), overflows


def screenshots(html_root: Path, pages: list[str], out_dir: Path, width: int = 1280,
                browser: str | None = None) -> list[tuple[Path, list[str]]]:
    """One full-length PNG per page in ``out_dir`` (``<page>.png``), ``width`` px wide.

    Returns ``(file, overflows)`` per page: the screenshot and what sticks out of the text column.
    """
    browser = browser or find_chromium()
    if browser is None:
        raise RuntimeError("no Chromium or Chrome found on PATH; install one (e.g. apt install chromium) "
                           "to take screenshots, the page check itself needs none")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        html_file = Path(html_root) / f"{page}.html"
        height, overflows = measure_page(browser, html_file, width)
        target = out_dir / f"{page.replace('/', '_')}.png"
        result = _chromium(browser, f"--window-size={width},{height}", f"--screenshot={target}",
                           html_file.resolve().as_uri())
        if not target.is_file():
            raise RuntimeError(f"Chromium wrote no screenshot of {page}: {result.stderr[-500:]}")
        written.append((target, overflows))
    return written
