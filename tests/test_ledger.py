"""The ledger: each row's predicate on values chosen by hand, records that serve only what the current code,
notebook and profile wrote, and the reproduce command on a miniature chapter."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from primekit.ledger import records, reproduce, run, verdicts
from primekit.ledger.rows import BY_KEY, ROWS
from primekit.ledger.verdicts import DIFFERS, OFFLINE, REPRODUCED, SAME, decide

ROOT = Path(__file__).resolve().parents[1]


def test_every_row_has_a_predicate_and_the_paper_figures_are_all_there():
    assert set(verdicts.PREDICATES) == set(BY_KEY)
    figures = {"2b", "2d", "3b", "3c", "3d", "3e", "3f", "3g", "4b", "4c", "4d", "4e", "4f", "5b", "5c", "5d", "5e"}
    assert figures <= set(BY_KEY)
    assert [r.paper for r in ROWS if r.key in ("accuracy", "energy_nmnist", "energy_inpainting", "load_nmnist",
                                               "load_inpainting")] == ["up to 97.6 % (secondary source)", "77.0 %",
                                                                        "37.83x", "12.5 %", "62.50x"]


def test_accuracy_is_reproduced_only_when_the_paper_lies_in_our_interval():
    inside = decide("accuracy", {"accuracy": 0.97, "low": 0.96, "high": 0.98, "n_test": 1000})
    assert inside.status == REPRODUCED and inside.ours == "97.0 % [96.0, 98.0]"
    below = decide("accuracy", {"accuracy": 0.95, "low": 0.94, "high": 0.975, "n_test": 1000})
    assert below.status == DIFFERS                         # 0.976 just above the interval
    assert decide("accuracy", {"accuracy": 0.976, "low": 0.976, "high": 0.976, "n_test": 1}).status == REPRODUCED


def test_load_saved_is_the_same_pattern_when_early_stop_saves_but_not_the_papers_amount():
    assert decide("load_nmnist", {"saved": 0.5, "low": 0.48, "high": 0.52, "accuracy_cost": 0.0}).status == SAME
    assert decide("load_nmnist", {"saved": 0.77, "low": 0.75, "high": 0.79, "accuracy_cost": 0.0}).status == REPRODUCED
    assert decide("load_nmnist", {"saved": 0.0, "low": 0.0, "high": 0.0, "accuracy_cost": 0.0}).status == DIFFERS


def test_energy_rows_say_whether_the_papers_ratio_is_in_our_range():
    inside = decide("energy_nmnist", {"ratio": 20.0, "range_low": 10.0, "range_high": 40.0})
    outside = decide("energy_nmnist", {"ratio": 20.0, "range_low": 10.0, "range_high": 30.0})
    assert inside.status == outside.status == SAME
    assert "37.83x lies inside" in inside.rule and "does not lie" in outside.rule
    assert decide("energy_inpainting", {"ratio": 0.8, "range_low": 0.5, "range_high": 2.0}).status == DIFFERS


def test_pattern_rows_on_both_sides_of_their_rule():
    assert decide("3b", {"exits_rise": True, "hardware_gap": -0.01, "tolerance": 0.02}).status == SAME
    assert decide("3b", {"exits_rise": True, "hardware_gap": -0.03, "tolerance": 0.02}).status == DIFFERS   # beyond 2
    assert decide("3b", {"exits_rise": True, "hardware_gap": 0.09, "tolerance": 0.02}).status == SAME   # chip better
    assert decide("3b", {"exits_rise": False, "hardware_gap": 0.0, "tolerance": 0.02}).status == DIFFERS
    methods = {"weight_tuning": 0.95, "software_pruning": 0.93, "memristor_pruning": 0.94, "random_best": 0.12,
               "tolerance": 0.03, "chance": 0.1}
    assert decide("3e", methods).status == SAME
    assert decide("3e", {**methods, "random_best": 0.5}).status == DIFFERS
    assert decide("3e", {**methods, "software_pruning": 0.9}).status == DIFFERS
    # "close" is 2 points at least: a resolved gap of 1.4 points is still close
    assert decide("3e", {**methods, "software_pruning": 0.936, "tolerance": 0.01}).status == SAME
    assert decide("3b", {"exits_rise": True, "hardware_gap": -0.019, "tolerance": 0.005}).status == SAME
    assert decide("5d", {"largest_gap": 2.9e-8, "tolerance": 0.02}).ours.endswith(": none")
    assert decide("3g", {"pruned_drop": 0.05, "tuned_drop": 0.04, "resolution": 0.02}).status == SAME
    assert decide("3g", {"pruned_drop": 0.07, "tuned_drop": 0.04, "resolution": 0.02}).status == DIFFERS
    assert decide("is_comparable", {"hardware": 9.0, "software": 9.5, "tolerance": 0.1}).status == SAME
    assert decide("is_comparable", {"hardware": 8.0, "software": 9.5, "tolerance": 0.1}).status == DIFFERS
    assert decide("4c", {"largest_change": 0.01, "tolerance": 0.05}).status == SAME
    assert decide("2b", {"reset_share": 0.5, "expected_share": 0.5}).status == SAME
    assert decide("2b", {"reset_share": 0.3, "expected_share": 0.5}).status == DIFFERS
    assert decide("5c", {"read_noise": 0.05}).status == OFFLINE
    released = {"accuracy": 0.6, "low": 0.57, "high": 0.63, "real_correct": True}
    assert decide("released", released).status == SAME
    assert decide("released", {**released, "real_correct": False}).status == DIFFERS
    assert decide("released", {**released, "high": 0.98}).status == REPRODUCED


def test_a_verdict_names_missing_or_nan_values():
    with pytest.raises(ValueError, match=r"values for row '3c' lack \['agreement_full'\]"):
        decide("3c", {"agreement_low": 0.5})
    with pytest.raises(ValueError, match=r"hold NaN in \['agreement_low'\]"):
        decide("3c", {"agreement_low": math.nan, "agreement_full": 0.5})
    with pytest.raises(ValueError, match=r"key='9z' is not a ledger row"):
        decide("9z", {})


def _notebook(path, code="x = 1"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter"), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def book(tmp_path, monkeypatch):
    folder = tmp_path / "book"
    folder.mkdir()
    monkeypatch.setenv(records.BOOK_ENV, str(folder))
    monkeypatch.setenv(records.FIGURES_ENV, str(tmp_path / "figures"))
    return folder


def test_a_record_round_trips_with_its_figure(book):
    notebook = _notebook(book / "early_stop.ipynb")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    values = {"agreement_low": 0.5, "agreement_full": 0.75, "nan_value": math.nan}
    path = records.save_record(records.FigureRecord("3c", values, {"x": [1, 2]}), "tiny", notebook, fig=fig)
    plt.close(fig)
    assert {p.suffix for p in path.parent.iterdir()} == {".json", ".png", ".svg"}
    loaded = records.load_record("3c", "tiny", notebook)
    assert loaded.values["agreement_full"] == 0.75 and math.isnan(loaded.values["nan_value"])
    assert loaded.data == {"x": [1, 2]} and loaded.meta["profile"] == "tiny"
    assert records.load_record("3c", "book", notebook) is None                 # another profile


def test_a_record_is_stale_after_a_code_edit_and_refused_when_tampered(book, caplog):
    notebook = _notebook(book / "early_stop.ipynb")
    path = records.save_record(records.FigureRecord("3c", {"agreement_low": 0.5, "agreement_full": 0.7}), "tiny",
                               notebook)
    _notebook(notebook, code="x = 2")                                          # the chapter's code changed
    assert records.load_record("3c", "tiny", notebook) is None
    _notebook(notebook)
    stored = json.loads(path.read_text())
    stored["values"]["agreement_full"] = 0.99                                  # a number edited by hand
    path.write_text(json.dumps(stored))
    with caplog.at_level("WARNING", logger="primekit"):
        assert records.load_record("3c", "tiny", notebook) is None
    assert "fails its checksum" in caplog.text
    path.write_text("{not json")
    assert records.load_record("3c", "tiny", notebook) is None
    with pytest.raises(TypeError, match="values holds a object"):
        records.save_record(records.FigureRecord("3c", {"a": object()}), "tiny", notebook)


def test_the_ledger_table_marks_rows_without_a_record(book):
    for r in ROWS:
        if not (book / f"{r.notebook}.ipynb").exists():
            _notebook(book / f"{r.notebook}.ipynb")
    entries = run.load_entries("tiny")
    table = run.ledger_table(entries, links=False)
    assert len(table.rows) == len(ROWS) and set(table.column("ours")) == {"not measured"}
    assert table.column("why, and where")[0] == "Early stop"
    assert run.ledger_table(entries).column("why, and where")[0] == "{doc}`Early stop <early_stop>`"


def test_figure_keys_accept_the_usual_spellings():
    assert reproduce.figure_keys(["3b", "fig3c", "Fig. 4e", "accuracy"]) == ["3b", "3c", "4e", "accuracy"]
    assert reproduce.figure_keys(None) == [r.key for r in ROWS]
    with pytest.raises(ValueError, match="key='9' is not a ledger row"):
        reproduce.figure_keys(["fig9"])


RECORDING_CHAPTER = """
import matplotlib.pyplot as plt
import primekit.chapter
chapter = primekit.chapter.start_chapter("energy", reads_data=False)
fig, ax = plt.subplots()
ax.plot([0.2, 0.8], [3.0, 4.0])
chapter.record("3f", {"hybrid_below_at_every_threshold": True}, data={"ratio": [3.0, 4.0]}, fig=fig)
"""


def test_reproduce_runs_a_missing_chapter_and_writes_its_figure_and_data(book, tmp_path, monkeypatch, capsys):
    _notebook(book / "energy.ipynb", RECORDING_CHAPTER)
    monkeypatch.setenv("PRIMEKIT_DATA", str(tmp_path / "data"))
    out = tmp_path / "out"
    folder, summary = reproduce.reproduce("tiny", ["3f"], out)
    assert folder == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == ["3f.json", "3f.png", "3f.svg"]
    assert json.loads((out / "3f.json").read_text())["data"] == {"ratio": [3.0, 4.0]}
    assert "same pattern" in summary and "hybrid below digital at every θ" in summary
    # the command line prints the same
    from primekit.__main__ import main
    assert main(["reproduce", "--profile", "tiny", "--only", "3f", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Fig. 3f" in printed and "same pattern" in printed and f"are in {out.resolve()}" in printed
    assert main(["reproduce", "--profile", "tiny", "--only", "fig9"]) == 2          # an unknown row is refused


def _prose_digits(markdown: str) -> list[str]:
    """Digits left in Markdown once glue, roles, directive blocks and code spans are taken out."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)                  # directive blocks ({glue:md} tables)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", "", text)                          # {glue:text}`x:.1f`, {doc}`...`
    text = re.sub(r"`[^`]*`", "", text)                                     # code spans
    return re.findall(r"[^\s]*\d[^\s]*", text)


def test_the_ledger_page_types_no_number():
    nb = json.loads((ROOT / "book" / "what_we_reproduced.ipynb").read_text())
    prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert _prose_digits(prose) == []
    assert _prose_digits("the paper's 97.6 % and {glue:text}`acc:.1f` %") == ["97.6"]   # the check can fail


def test_the_intro_takes_its_short_form_from_the_ledger():
    intro = (ROOT / "book" / "intro.md").read_text()
    for key in ("accuracy", "load_nmnist", "energy_nmnist", "3g"):
        assert f"what_we_reproduced.ipynb::short_{key}_ours:s" in intro
