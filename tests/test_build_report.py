"""The Reproducibility appendix's table and sentences."""

from primekit import profiles
from primekit.cache import source_hash
from primekit.experiments import build_report


def test_profile_table_has_one_column_per_profile_and_one_row_per_setting():
    table = build_report.profile_table()
    assert table.header == ("setting", *(f"`{name}`" for name in profiles.PROFILES))
    assert table.column("setting") == (*build_report.PROFILE_FIELDS.values(), *build_report.INPAINTING_FIELDS.values())
    paper = profiles.PROFILES["paper"]
    column = dict(zip(table.column("setting"), table.column("`paper`")))
    assert column["N-MNIST training samples"] == ("all" if paper.n_train is None else f"{paper.n_train:,}")
    assert column["time steps T"] == str(paper.timesteps)
    assert column["inpainting: epochs"] == str(paper.inpainting.epochs)
    book = dict(zip(table.column("setting"), table.column("`book`")))
    assert book["N-MNIST training samples"] == f"{profiles.PROFILES['book'].n_train:,}"   # 4,000, not 4000
    assert (book["N-MNIST source"], column["N-MNIST source"]) == ("emulated offline", "real recordings")
    assert set(build_report.DATA_SOURCE_NAMES) == set(profiles.DATA_SOURCES)


def test_profile_table_of_a_custom_profile():
    custom = profiles.PROFILES["tiny"].replace(name="mine", n_test=None, description="a test")
    table = build_report.profile_table({"mine": custom})
    assert table.header == ("setting", "`mine`")
    assert dict(zip(table.column("setting"), table.column("`mine`")))["N-MNIST test samples"] == "all"
    assert build_report.profile_purposes({"mine": custom}) == "- `mine`: a test"


def test_sentences():
    assert "real N-MNIST expected in" in build_report.data_location_text()
    text = build_report.versions_text("9.9")
    assert source_hash() in text and "primekit 9.9" in text
