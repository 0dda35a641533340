"""Image grids and frames of event data: images sharing one colour scale, signed ON - OFF images, the frames
of a recording and the two binning rules side by side."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from primekit.plots._base import (
    SIGNED_CMAP,
    _grid_axes,
    _steps,
    _to_numpy,
)


def plot_image_grid(images, titles=None, axes=None, *, row_labels=None, cmap: str = "gray",
                    vmin: float | None = None, vmax: float | None = None, colorbar_label: str | None = None,
                    xlabel: str = "x (px)", ylabel: str = "y (px)"):
    """Images in a grid sharing one colour scale and one colour bar.

    Args:
        images: ``[N, H, W]`` (one row of N panels) or ``[R, C, H, W]`` (R rows, C columns).
        titles: one title per panel (a flat list of N, or R lists of C), or C column titles written
            above the top row only, or None.
        axes: axes to draw into (N, or R x C of them, any nesting); a new figure when None.
        row_labels: one label per row, written above the y-axis label of the first column.
        cmap, vmin, vmax: colour map and limits (default: the images' minimum and maximum).
        colorbar_label: label of the colour bar (with units); no colour bar when None.
        xlabel, ylabel: axis labels of the bottom row and the first column.

    Returns:
        The matplotlib Figure.
    """
    images = _to_numpy(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"images must be [N, H, W] or [R, C, H, W], got shape {images.shape}")
    rows, cols = images.shape[:2]
    fig, grid = _grid_axes(rows, cols, axes)
    flat_titles = None
    if titles is not None:
        flat_titles = [str(t) for t in np.asarray(titles, dtype=object).ravel()]
        if rows > 1 and len(flat_titles) == cols:  # column titles: the top row only
            flat_titles = flat_titles + [""] * (rows - 1) * cols
        if len(flat_titles) != rows * cols:
            raise ValueError(f"{len(flat_titles)} titles for {rows * cols} images")
    vmin = float(images.min()) if vmin is None else vmin
    vmax = float(images.max()) if vmax is None else vmax
    shown = None
    for r in range(rows):
        for c in range(cols):
            ax = grid[r, c]
            shown = ax.imshow(images[r, c], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.grid(False)
            if flat_titles is not None and flat_titles[r * cols + c]:
                ax.set_title(flat_titles[r * cols + c], fontsize=9)
            if r == rows - 1:
                ax.set_xlabel(xlabel)
            if c == 0:
                label = ylabel if row_labels is None else f"{row_labels[r]}\n{ylabel}"
                ax.set_ylabel(label)
    if colorbar_label is not None:
        fig.colorbar(shown, ax=list(grid.ravel()), label=colorbar_label, shrink=0.9)
    return fig


def plot_signed_images(images, titles=None, axes=None, *, row_labels=None, vmax: float | None = None,
                       colorbar_label: str = "ON − OFF events"):
    """Signed ON - OFF event images (e.g. :func:`primekit.data.eventstats.saccade_images`): red ON, blue OFF.

    A diverging colour map with symmetric limits ``[-vmax, vmax]`` (default: the largest absolute value),
    so white means "no net events" in every panel. Arguments as :func:`plot_image_grid`.

    Returns:
        The matplotlib Figure.
    """
    images = _to_numpy(images)
    limit = float(np.abs(images).max()) if vmax is None else float(vmax)
    limit = limit or 1.0
    return plot_image_grid(images, titles, axes, row_labels=row_labels, cmap=SIGNED_CMAP, vmin=-limit,
                           vmax=limit, colorbar_label=colorbar_label)


def plot_frames(frames, axes=None, *, ncols: int | None = None, row_label: str | None = None, step_titles=None,
                vmax: float | None = None, colorbar_label: str | None = "ON − OFF events per frame"):
    """The T frames of one sample as signed (ON - OFF) images, step by step.

    Args:
        frames: event counts ``[T, 2, 34, 34]`` = ``[t, p, y, x]`` (p = 0 OFF, 1 ON), e.g. from
            :func:`primekit.data.frames.to_frames`.
        axes: at least T axes (any shape, filled row by row; extra axes are hidden); a new figure
            when None.
        ncols: panels per row of a new figure (default: all T in one row).
        row_label: label written beside the first panel of every row (e.g. the binning rule).
        step_titles: one title per step; default "step 1" ... "step T" (steps counted from 1).
        vmax: colour limit (default: the largest absolute value), symmetric around 0.
        colorbar_label: label of the colour bar; no colour bar when None (e.g. when a caller draws one
            shared colour bar for several calls).

    Returns:
        The matplotlib Figure. The 34 x 34 pixel axes carry no ticks (the panels are small).
    """
    frames = _to_numpy(frames)
    if frames.ndim != 4 or frames.shape[1] != 2:
        raise ValueError(f"frames must be [T, 2, H, W], got shape {frames.shape}")
    steps = len(frames)
    signed = frames[:, 1].astype(np.int64) - frames[:, 0].astype(np.int64)
    titles = step_titles if step_titles is not None else [f"step {t}" for t in _steps(steps)]
    if len(titles) != steps:
        raise ValueError(f"{len(titles)} step titles for {steps} frames")
    if axes is None:
        ncols = ncols or steps
        nrows = -(-steps // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.35 * ncols + 1.2, 2.0 * nrows + 0.2), squeeze=False)
    grid = np.asarray(axes, dtype=object)
    grid = grid.reshape(1, -1) if grid.ndim == 1 else grid
    flat = grid.ravel()
    if len(flat) < steps:
        raise ValueError(f"{len(flat)} axes for {steps} frames")
    limit = float(np.abs(signed).max()) if vmax is None else float(vmax)
    limit = limit or 1.0
    shown = None
    for k, ax in enumerate(flat):
        if k >= steps:
            ax.axis("off")
            continue
        shown = ax.imshow(signed[k], cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(titles[k], fontsize=9)
    if row_label is not None:
        for row in grid:
            row[0].set_ylabel(row_label)
    fig = flat[0].figure
    if colorbar_label is not None:
        fig.colorbar(shown, ax=list(flat[:steps]), label=colorbar_label, shrink=0.9)
    return fig


def plot_frame_rules(frames_by_rule: dict, *, titles_by_rule: dict | None = None, ncols: int = 5,
                     colorbar_label: str = "ON − OFF events per frame"):
    """The T frames of one sample under several binning rules, one block of rows per rule, one colour scale.

    Args:
        frames_by_rule: rule name (e.g. "equal time") -> frames ``[T, 2, 34, 34]``; all with the same T.
        titles_by_rule: rule name -> one title per step (default "step 1" ... "step T").
        ncols: panels per row (a rule with T frames takes ``ceil(T / ncols)`` rows).
        colorbar_label: label of the one colour bar shared by every panel.

    Returns:
        The matplotlib Figure, about 7.4 in wide for ``ncols = 5`` (fits the book's text column).
    """
    if not frames_by_rule:
        raise ValueError("frames_by_rule is empty: give at least one rule's frames")
    arrays = {name: _to_numpy(f) for name, f in frames_by_rule.items()}
    lengths = {len(f) for f in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"every rule must have the same number of frames; got {sorted(lengths)}")
    steps = lengths.pop()
    ncols = max(1, min(int(ncols), steps))
    rows_per_rule = -(-steps // ncols)
    n_rows = rows_per_rule * len(arrays)
    fig, axes = plt.subplots(n_rows, ncols, figsize=(1.3 * ncols + 0.9, 2.0 * n_rows), squeeze=False)
    limit = max(float(np.abs(f[:, 1].astype(np.int64) - f[:, 0].astype(np.int64)).max()) for f in arrays.values())
    for r, (name, frames) in enumerate(arrays.items()):
        block = axes[r * rows_per_rule:(r + 1) * rows_per_rule]
        titles = (titles_by_rule or {}).get(name)
        plot_frames(frames, block, row_label=name, step_titles=titles, vmax=limit or 1.0, colorbar_label=None)
    shown = axes[0, 0].images[0]
    fig.colorbar(shown, ax=list(axes.ravel()), label=colorbar_label, shrink=0.5, aspect=30)
    return fig


__all__ = [name for name in dir() if name.startswith("plot_")]
