"""Progress reports: bars, one-line summaries, or nothing, as PRIMEKIT_PROGRESS says."""

import pytest

from primekit.progress import progress


def test_bar_is_text_on_stderr_and_passes_items_through(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "1")
    assert list(progress(range(3), desc="counting")) == [0, 1, 2]
    err = capsys.readouterr().err
    assert "counting" in err and "3/3" in err


def test_summary_is_one_line_when_the_loop_ends(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "summary")
    items = progress(range(4), desc="training", unit="batches")
    assert capsys.readouterr().err == ""  # nothing before the loop runs
    assert list(items) == [0, 1, 2, 3]
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("training: 4 batches in ")


def test_environment_switch_wins_over_the_caller(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "0")
    assert list(progress(range(3), desc="quiet", disable=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""


def test_caller_can_disable(capsys, monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "1")
    list(progress(range(3), desc="off", disable=True))
    assert capsys.readouterr().err == ""


def test_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("PRIMEKIT_PROGRESS", "loud")
    with pytest.raises(ValueError, match=r"PRIMEKIT_PROGRESS='loud' is not allowed"):
        progress(range(2))


def test_cache_messages_go_through_a_logger_the_book_can_silence(capsys, monkeypatch):
    """INFO lines reach stderr by default; $PRIMEKIT_LOG=warning (the book build) keeps only warnings."""
    from primekit import log

    logger = log.get_logger("test")
    logger.info("loaded x")
    assert capsys.readouterr().err == "[primekit.test] loaded x\n"
    monkeypatch.setenv("PRIMEKIT_LOG", "warning")
    logger = log.get_logger("test")
    logger.info("loaded x")
    logger.warning("x is corrupt; recomputing")
    assert capsys.readouterr().err == "[primekit.test] x is corrupt; recomputing\n"
    monkeypatch.setenv("PRIMEKIT_LOG", "loud")
    with pytest.raises(ValueError, match=r"PRIMEKIT_LOG='loud' is not allowed; use one of \('debug', 'info'"):
        log.get_logger("test")
    monkeypatch.delenv("PRIMEKIT_LOG")
    log.get_logger("test")
