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
