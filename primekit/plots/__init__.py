"""Figure functions for the book, one module per chapter, all available as ``primekit.plots.<name>``.

Every function takes ``ax=None`` (``axes=None`` for multi-panel figures; a new figure is made when
None), returns the matplotlib Figure and never calls ``show()``; axis labels carry units. Inputs may be
torch tensors or NumPy arrays; time axes count steps from 1. :func:`use_style` applies the style shipped
with the package.
"""

from ._base import (  # noqa: F401 (used by tests and notebooks)
    OFF_COLOR,
    ON_COLOR,
    SIGNED_CMAP,
    STYLE_PATH,
    _figure_and_axes,
    _normal_pdf,
    _to_numpy,
    use_style,
)
from .early_stop import *
from .energy import *
from .event_data import *
from .event_frames import *
from .inpainting import *
from .lif_neurons import *
from .memristor_chips import *
from .memristor_noise import *
from .memristor_pairs import *
from .noise_robustness import *
from .render import figure_png, smallest_font_pt  # noqa: F401
from .subnet_scoring import *
