"""One message format for bad parameters across the config dataclasses."""

import pytest

from primekit.chip.memristor import MemristorConfig
from primekit.data.emulator import EmulatorConfig
from primekit.snn.neurons import LIFParameters


@pytest.mark.parametrize("make, field, value, message", [
    (EmulatorConfig, "contrast", "high", r"contrast='high' must be a finite number > 0"),  # a string is refused, not compared
    (EmulatorConfig, "blur_px", True, r"blur_px=True must be a finite number >= 0"),
    (MemristorConfig, "weight_scale", None, r"weight_scale=None must be a finite number > 0"),
    (MemristorConfig, "read_noise", "5%", r"read_noise='5%' must be a finite number >= 0"),
    (LIFParameters, "threshold", "0.2", r"threshold='0.2' must be a finite number >= 0"),
])
def test_non_numbers_are_refused_with_the_parameter_named(make, field, value, message):
    with pytest.raises(ValueError, match=message):
        make(**{field: value})
