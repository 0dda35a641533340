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
from .early_stop import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from .event_data import *  # noqa: F401,F403
from .inpainting import *  # noqa: F401,F403
from .lif_neurons import *  # noqa: F401,F403
from .memristor_noise import *  # noqa: F401,F403
from .memristor_pairs import *  # noqa: F401,F403
from .noise_robustness import *  # noqa: F401,F403
from .render import figure_png, smallest_font_pt  # noqa: F401
from .subnet_scoring import *  # noqa: F401,F403
