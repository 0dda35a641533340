"""Figures rendered for the book's text column: sharp PNGs shown at their design size, with a font record.

:func:`figure_png` renders at twice the CSS pixel density and asks the page to show the image at
``inches x 96`` CSS px, so a figure designed 7 in wide fills 672 px of the 772 px column and its 9 pt labels
show at 9 pt. The PNG records the figure's smallest font and any ASCII unit (``uS``) in its text, which the
page check (:mod:`primekit.pages`) reads. Inside IPython, :func:`use_figure_png` makes every displayed or
glued figure go through it.
"""

from __future__ import annotations

import io
import struct

from matplotlib.figure import Figure
from matplotlib.text import Text

from primekit.pages import ASCII_UNITS, CSS_PX_PER_INCH, FONT_KEY, UNITS_KEY

#: Pixels per inch of the stored PNG: 2 x 96, sharp on high-density screens.
RENDER_DPI = 2 * CSS_PX_PER_INCH


def figure_texts(fig: Figure) -> list[Text]:
    """Every visible, non-empty text of ``fig`` (titles, labels, tick labels, legends, annotations)."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and _drawn(t)]


def _drawn(text: Text) -> bool:
    axes = text.axes
    return axes is None or axes.get_visible()


def smallest_font_pt(fig: Figure) -> float:
    """The smallest font size (pt) among the figure's visible texts (inf for a figure without text)."""
    fig.canvas.draw()  # tick labels exist only once drawn
    return min((t.get_fontsize() for t in figure_texts(fig)), default=float("inf"))


def figure_png(fig: Figure) -> tuple[bytes, dict]:
    """``(png_bytes, {"width": css_px, "height": css_px})``: the PNG and the size the page shows it at."""
    units = sorted({m for t in figure_texts(fig) for m in ASCII_UNITS.findall(t.get_text())})
    smallest = smallest_font_pt(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=RENDER_DPI, bbox_inches="tight",
                metadata={FONT_KEY: f"{smallest:.2f}", UNITS_KEY: ", ".join(units)})
    data = buffer.getvalue()
    width, height = struct.unpack(">II", data[16:24])  # the PNG header's IHDR chunk
    scale = CSS_PX_PER_INCH / RENDER_DPI
    return data, {"width": round(width * scale), "height": round(height * scale)}


def use_figure_png() -> bool:
    """Inside IPython, display and glue figures through :func:`figure_png`; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib.pyplot as plt

    # The inline backend registers its own PNG formatter when pyplot first resolves the backend (the first
    # figure); resolve it now, so that registration happens before this one and not over it.
    plt.close(plt.figure())
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True
