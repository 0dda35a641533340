"""Figure functions for the book, one module per chapter, all available as ``primekit.plots.<name>``.

Every function takes ``ax=None`` (``axes=None`` for multi-panel figures; a new figure is made when
None), returns the matplotlib Figure and never calls ``show()``; axis labels carry units. Inputs may be
torch tensors or NumPy arrays; time axes count steps from 1. :func:`use_style` applies the style shipped
with the package.
"""

from ._base import OFF_COLOR, ON_COLOR, SIGNED_CMAP, STYLE_PATH, use_style
from .device import *  # noqa: F401,F403
from .early_stop import *  # noqa: F401,F403
from .energy import *  # noqa: F401,F403
from .events import *  # noqa: F401,F403
from .neurons import *  # noqa: F401,F403
from .robustness import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from ._base import _figure_and_axes, _normal_pdf, _to_numpy  # noqa: F401 (used by tests and notebooks)
