"""The chapter helper: one place for a notebook's profile, seeds and shared constants."""

import pytest

from primekit import profiles
from primekit.chapter import start_chapter
from primekit.seeding import derive_seed


def test_a_chapter_derives_its_seeds_from_the_profile_and_its_name(capsys):
    chapter = start_chapter("early-stop", profile="tiny")
    assert chapter.seed("chip") == derive_seed(profiles.get_profile("tiny").seed, "early-stop-chapter", "chip")
    assert chapter.seed("chip") != start_chapter("energy", profile="tiny").seed("chip")
    assert chapter.timesteps == 10 and chapter.data_name == "emulated N-MNIST"
    assert "profile: tiny" in capsys.readouterr().out


def test_the_shared_constants_are_the_books():
    chapter = start_chapter("lif", reads_data=False, profile="tiny")
    assert (chapter.read_noise, chapter.theta) == (0.02, 0.8)
    assert chapter.data_name is None and "N-MNIST" not in chapter.banner()


def test_a_chapter_needs_a_name():
    with pytest.raises(ValueError, match="name=''"):
        start_chapter("")


def test_glue_sends_what_myst_nb_glue_sends(monkeypatch):
    """primekit glues without importing MyST-NB's glue module (1.5 s per notebook); the display call is the same."""
    import IPython.display
    import myst_nb.ext.glue as myst_glue

    from primekit.chapter import GLUE_PREFIX, Chapter
    from primekit.profiles import get_profile

    assert GLUE_PREFIX == myst_glue.GLUE_PREFIX
    calls = []
    monkeypatch.setattr(myst_glue, "ipy_display", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setattr(IPython.display, "display", lambda *args, **kwargs: calls.append((args, kwargs)))
    for value in (0.125, "emulated N-MNIST", 7):
        myst_glue.glue("x", value, display=False)
        assert Chapter("c", get_profile("tiny"), None).glue("x", value) == value
        assert calls[-1] == calls[-2] and "application/papermill.record/text/plain" in calls[-1][0][0]
