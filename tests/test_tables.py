"""The shared table renderer: cells as given, Markdown and HTML escaped, rows checked against the header."""

import pytest

from primekit.tables import Table, mean_spread, percent


def test_percent_and_mean_spread_format_fractions():
    assert percent(0.9634) == "96.3 %"
    assert percent(0.5, digits=0) == "50 %"
    assert mean_spread(0.9634, 0.012) == "96.3 % ± 1.2"


def test_markdown_and_html_show_every_cell():
    table = Table.of(("name", "value"), [("`conv0`", 1.5), ("a|b", "<x>")])
    assert table.rows == (("`conv0`", "1.5"), ("a|b", "<x>"))
    assert table.markdown().splitlines() == ["| name | value |", "|---|---|", "| `conv0` | 1.5 |",
                                             "| a\\|b | <x> |"]
    html = table.html()
    assert "<th>name</th><th>value</th>" in html
    assert "<td><code>conv0</code></td><td>1.5</td>" in html
    assert "<td>a|b</td><td>&lt;x&gt;</td>" in html
    assert table._repr_html_() == html and table._repr_markdown_() == table.markdown()
    assert table.column("value") == ("1.5", "<x>")


def test_rows_must_match_the_header():
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        Table.of(("a", "b"), [(1, 2), (3,)])
    with pytest.raises(ValueError, match="header is empty"):
        Table.of((), [])
    with pytest.raises(ValueError, match="name='c' is not a column"):
        Table.of(("a",), [(1,)]).column("c")


def test_prose_cells_may_wrap_and_numbers_may_not():
    table = Table.of(("value", "source"), [("96.0 % ± 0.1 (95 % CI 95.2 to 96.8)", "Horowitz 2014, scaled to 40 nm")])
    cells = table.html().split("<td")
    assert cells[1].startswith(">96.0")                  # a long number stays nowrap (no class)
    assert cells[2].startswith(' class="prose">Horowitz')
