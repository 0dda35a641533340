"""Shared pieces of the figure functions: the style, axes handling, array conversion, colours."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

STYLE_PATH = Path(__file__).resolve().parent.parent / "style" / "primekit.mplstyle"

#: Colours of the two polarities, the ends of the diverging map used for signed images (ON red, OFF blue).
ON_COLOR = "#b2182b"
OFF_COLOR = "#2166ac"
SIGNED_CMAP = "RdBu_r"


def use_style() -> None:
    """Apply primekit's matplotlib style (shipped inside the package) to all later figures; inside IPython,
    show figures at their design size (:func:`primekit.plots.render.use_figure_png`)."""
    from primekit.plots.render import use_figure_png

    plt.style.use(STYLE_PATH)
    use_figure_png()


def _figure_and_axes(ax=None, **subplot_kw):
    """``(fig, ax)``: the given axes and their figure, or a new figure with one axes."""
    if ax is None:
        fig, ax = plt.subplots(**subplot_kw)
        return fig, ax
    return ax.figure, ax


def _to_numpy(x) -> np.ndarray:
    """A NumPy array from a tensor (detached, on the CPU), an array or a sequence."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _matrix(x, name: str, layout: str) -> np.ndarray:
    """``x`` as a 2-D NumPy array; a ValueError naming ``name`` and its ``layout`` (e.g. ``[T, N]``) otherwise."""
    x = _to_numpy(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array shaped {layout}, got shape {x.shape}")
    return x


def _steps(n: int) -> np.ndarray:
    """Timestep numbers 1..n (steps are counted from 1, as everywhere in primekit)."""
    return np.arange(1, n + 1)


def _grid_axes(rows: int, cols: int, axes, panel_in: float = 1.55):
    """``(fig, axes[rows, cols])``: the given axes reshaped, or a new figure of square panels."""
    if axes is None:
        fig, axes = plt.subplots(rows, cols, figsize=(panel_in * cols + 1.0, panel_in * rows + 0.4),
                                 squeeze=False, sharex=True, sharey=True)
    axes = np.asarray(axes, dtype=object).reshape(rows, cols)
    return axes[0, 0].figure, axes


def _normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2.0 * np.pi))


def _plain_log_ticks(axis) -> None:
    """Ticks at 1, 2, 5 x 10^k written as plain numbers on a log ``axis`` (``ax.xaxis`` or ``ax.yaxis``), no
    minor labels: matplotlib's default labels only the decades, or crowds minor labels like 2x10^-1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())

