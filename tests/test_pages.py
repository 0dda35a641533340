"""The page check finds each thing a reader should not see, and passes a clean page; figures record their fonts."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from primekit import pages  # noqa: E402
from primekit.plots.render import RENDER_DPI, figure_png, smallest_font_pt  # noqa: E402

CLEAN = """<html><body><nav>| not | checked |\n|---|---|</nav><article class="bd-article">
<p>Conductances in µS, <code class="docutils literal"><span class="pre">g_max_us</span></code> in code.</p>
<div class="cell docutils container"><div class="cell_input docutils container"><pre>x = 1</pre></div>
<div class="cell_output docutils container"><div class="output text_plain"><pre>accuracy 96.3 %</pre></div></div></div>
{extra}</article></body></html>"""


def _figure(width_in, fontsize, label="accuracy (%)"):
    fig, ax = plt.subplots(figsize=(width_in, 2.5))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel(label, fontsize=fontsize)
    ax.tick_params(labelsize=fontsize)
    return fig


def _page(tmp_path, extra="", figures=()):
    for name, fig in figures:
        (tmp_path / f"{name}.png").write_bytes(figure_png(fig)[0])
        plt.close(fig)
    page = tmp_path / "chapter.html"
    page.write_text(CLEAN.format(extra=extra))
    return page


def test_a_clean_page_has_no_problem(tmp_path):
    good = _figure(6.0, 10)
    width = figure_png(good)[1]["width"]
    page = _page(tmp_path, f'<img src="good.png" width="{width}">', [("good", good)])
    assert pages.check_page(page) == []


@pytest.mark.parametrize("extra, expected", [
    ("<p>| a | b |\n|---|---|\n| 1 | 2 |</p>", "a Markdown table shown as raw text in text"),
    ('<div class="cell_output"><pre>| a |\n| --- |</pre></div>', "a Markdown table shown as raw text in an output"),
    ('<div class="cell_output"><pre>[primekit.cache] loaded x</pre></div>', "a cache log line in an output"),
    ('<div class="cell_output"><pre>stored in /home/reader/prime/data</pre></div>',
     "a machine path in an output: '/home/reader'"),
    ('<div class="cell_input"><pre>chapter.glue_values({"a": 1})</pre></div>', "a glue call in a visible code cell"),
    ("<p>a cell of 100 uS</p>", "ASCII unit 'uS' in text (write µS)"),
    ("<p>saves 12% of the steps</p>", "a percentage without a space in text: 'in code. saves 12% of the step'"),
    ('<div class="cell_output"><table><tr><td>2.1 uJ</td></tr></table></div>', "ASCII unit 'uJ' in an output"),
])
def test_each_problem_is_found(tmp_path, extra, expected):
    problems = [str(p) for p in pages.check_page(_page(tmp_path, extra))]
    assert len(problems) == 1 and expected in problems[0], problems


def test_figures_too_wide_too_small_or_not_recorded(tmp_path):
    wide, tiny, ascii_unit = _figure(11.0, 10), _figure(6.0, 7), _figure(6.0, 10, label="G (uS)")
    shown = {name: figure_png(fig)[1]["width"] for name, fig in (("wide", wide), ("tiny", tiny), ("unit", ascii_unit))}
    plain = plt.figure(figsize=(3, 2))
    plain.savefig(tmp_path / "plain.png", dpi=100)
    imgs = "".join(f'<img src="{n}.png" width="{w}">' for n, w in shown.items()) + '<img src="plain.png">'
    page = _page(tmp_path, imgs, [("wide", wide), ("tiny", tiny), ("unit", ascii_unit)])
    problems = [p.what for p in pages.check_page(page)]
    # 11 in at 96 px per inch, trimmed to its content: over 900 px; shrunk to the column, 10 pt shows below 9 pt
    assert any(w.startswith("figure wide.png") and "wider than the 772 px column" in w for w in problems)
    assert any(w.startswith("figure wide.png") and "below 9 pt" in w for w in problems)
    assert "figure tiny.png shows text at 7.0 pt, below 9 pt" in problems
    assert "figure unit.png writes uS (use µ)" in problems
    assert "figure plain.png was not rendered by primekit.plots.figure_png (no record of its fonts)" in problems
    assert len(problems) == 5, problems


def test_figure_png_is_shown_at_its_design_size_and_records_its_smallest_font():
    plt.style.use("default")   # the 5 in design width holds every label only with matplotlib's default margins
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    ax.set_title("title", fontsize=12)
    ax.set_xlabel("x (ms)", fontsize=9.5)
    ax.tick_params(labelsize=11)
    assert smallest_font_pt(fig) == 9.5
    data, shown = figure_png(fig)
    plt.close(fig)
    width_px = int.from_bytes(data[16:20], "big")
    assert shown["width"] == round(width_px * 96 / RENDER_DPI)
    # bbox "tight" trims the margins: the shown width is at most the 5 in (480 px) design width
    assert 400 <= shown["width"] <= 480
    from PIL import Image
    import io

    with Image.open(io.BytesIO(data)) as image:
        assert image.text[pages.FONT_KEY] == "9.50" and image.text[pages.UNITS_KEY] == ""
        assert round(image.info["dpi"][0]) == RENDER_DPI


def test_toc_pages_lists_the_book(tmp_path):
    (tmp_path / "_toc.yml").write_text("root: book/intro\nparts:\n  - chapters:\n      - file: book/a\n")
    assert pages.toc_pages(tmp_path) == ["book/intro", "book/a"]


def test_screenshots_without_a_browser_say_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "find_chromium", lambda: None)
    with pytest.raises(RuntimeError, match="no Chromium or Chrome found on PATH"):
        pages.screenshots(tmp_path, ["x"], tmp_path / "shots")


