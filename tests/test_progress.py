"""Progress bars: text on stderr, silenced by PRIMEKIT_PROGRESS=0 even when a caller asks for one."""

from primekit.progress import progress


def test_bar_is_text_on_stderr_and_passes_items_through(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "1")
    assert list(progress(range(3), desc="counting")) == [0, 1, 2]
    err = capsys.readouterr().err
    assert "counting" in err and "3/3" in err


def test_environment_switch_wins_over_the_caller(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "0")
    assert list(progress(range(3), desc="quiet", disable=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_caller_can_disable(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "1")
    list(progress(range(3), desc="off", disable=True))
    assert capsys.readouterr().err == ""
