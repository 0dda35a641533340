"""The chip-transfer experiment: its summary by hand and its argument checks (the pipeline runs in the book
build; the move to a fresh chip itself is tested in test_noise_models)."""

import numpy as np
import pytest

from primekit.experiments.chip_transfer import ChipTransfer, chip_transfer


def test_summary_by_hand():
    transfer = ChipTransfer(own=0.9, fresh=np.array([0.2, 0.3, 0.25]), random_topology=0.1, seed=3)
    summary = transfer.summary()
    assert summary["transfer_fresh_mean"] == pytest.approx(0.25)
    assert (summary["transfer_fresh_min"], summary["transfer_fresh_max"], summary["transfer_chips"]) == (0.2, 0.3, 3)
    assert summary["transfer_kept_share"] == pytest.approx((0.25 - 0.1) / (0.9 - 0.1))
    assert np.isnan(ChipTransfer(0.1, np.array([0.1]), 0.1, 0).summary()["transfer_kept_share"])


@pytest.mark.parametrize("kwargs, message", [
    ({"chips": 0}, "chips=0 must be a positive integer"),
    ({"seed": -1}, r"seed=-1 must be an integer in \[0, 2\*\*32\)"),
    ({"method": "weight-tuning"}, "method='weight-tuning' must be a method on formed chips"),
])
def test_bad_arguments_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        chip_transfer(**kwargs)
