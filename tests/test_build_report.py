"""The Reproducibility appendix's table and sentences."""

from primekit import profiles
from primekit.cache import source_hash
from primekit.experiments import build_report


def test_profile_table_has_one_row_per_profile():
    table = build_report.profile_table()
    assert table.header == ("profile", *build_report.PROFILE_FIELDS, "purpose")
    assert [row[0] for row in table.rows] == [f"`{name}`" for name in profiles.PROFILES]
    paper = profiles.PROFILES["paper"]
    row = dict(zip(table.header, table.rows[list(profiles.PROFILES).index("paper")]))
    assert row["n_train"] == ("all" if paper.n_train is None else str(paper.n_train))
    assert row["timesteps"] == str(paper.timesteps) and row["purpose"] == paper.description


def test_profile_table_of_a_custom_profile():
    custom = profiles.PROFILES["tiny"].replace(name="mine", n_test=None, description="a test")
    table = build_report.profile_table({"mine": custom})
    assert table.rows[0][0] == "`mine`" and table.rows[0][3] == "all" and table.rows[0][-1] == "a test"


def test_sentences():
    assert "real N-MNIST expected in" in build_report.data_location_text()
    text = build_report.versions_text("9.9")
    assert source_hash() in text and "primekit 9.9" in text
