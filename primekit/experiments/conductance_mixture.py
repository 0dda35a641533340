"""Is a conductance histogram a mixture of Gaussians? A fit whose number of components BIC chooses.

The paper's Fig. 2b describes the conductances of its differential pairs before pruning as a *mixture of
Gaussians* and after pruning as the same with a peak near zero (the RESET pairs). :func:`fit_mixture`
fits Gaussian mixtures of 1 to ``max_components`` components (scikit-learn's ``GaussianMixture``) and
keeps the one with the lowest Bayesian information criterion, ``BIC = -2 log L + p log n`` (``p`` free
parameters, ``n`` values): a component is added only when it raises the likelihood by more than it
costs. :func:`mixture_summary` names the result for the chapter's glue; :func:`joint_summary` describes
the joint distribution of ``G+`` and ``G-`` (the paper's Fig. 2d, middle and right).

Conductances are in microsiemens (µS). ``tests/test_conductance_mixture.py`` checks the fit on hand-made
samples of known components.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtr
from sklearn.mixture import GaussianMixture

from primekit.checks import is_count
from primekit.chip.memristor import Pairs

#: Values needed per component tried: fewer make BIC's choice (and the fitted spreads) meaningless.
VALUES_PER_COMPONENT = 10


@dataclass(frozen=True)
class MixtureFit:
    """A Gaussian mixture fitted to ``n_values`` values, components sorted by their mean.

    Attributes:
        means, stds, weights: one entry per component (µS, µS, fraction of the values; weights sum to 1).
        bic: the BIC of the best fit with 1, 2, ... ``max_components`` components (lower is better).
        n_values: how many values were fitted.
    """

    means: tuple[float, ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...]
    bic: tuple[float, ...]
    n_values: int

    @property
    def components(self) -> int:
        """The number of components BIC chose."""
        return len(self.means)

    def expected_counts(self, edges) -> np.ndarray:
        """Values each component puts into each bin, ``[components, bins]``, bins given by ``edges`` ``[bins + 1]``.

        ``n_values * weight * (Phi((b1 - mean) / std) - Phi((b0 - mean) / std))`` for a bin ``[b0, b1)``:
        directly comparable with a histogram of counts, however narrow a component is.
        """
        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"edges must be increasing bin edges [bins + 1] with at least 2 entries, got {edges!r}")
        mean, std, weight = (np.asarray(a, dtype=float)[:, None] for a in (self.means, self.stds, self.weights))
        cdf = ndtr((edges[None, :] - mean) / std)
        return self.n_values * weight * np.diff(cdf, axis=1)


def _values(values) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64).ravel()
    bad = int((~np.isfinite(array)).sum())
    if bad:
        raise ValueError(f"values contains {bad} non-finite entries (NaN or inf); every value must be finite")
    return array


def fit_mixture(values, max_components: int = 4, *, seed: int = 0, n_init: int = 3) -> MixtureFit:
    """Fit Gaussian mixtures of 1..``max_components`` components to ``values``; keep the lowest BIC.

    Args:
        values: the values (any shape, flattened), e.g. every cell's conductance in µS.
        max_components: the largest number of components tried (1 to 10).
        seed: seed of the fits' initialisations (the same seed gives the same fit).
        n_init: initialisations per number of components (the best is kept), >= 1.

    Returns:
        The chosen :class:`MixtureFit`, with the BIC of every number of components tried.
    """
    if not (is_count(max_components) and 1 <= max_components <= 10):
        raise ValueError(f"max_components={max_components!r} must be an integer from 1 to 10")
    if not (is_count(n_init) and n_init >= 1):
        raise ValueError(f"n_init={n_init!r} must be an integer >= 1")
    if not is_count(seed):
        raise ValueError(f"seed={seed!r} must be an integer")
    x = _values(values)
    needed = VALUES_PER_COMPONENT * max_components
    if x.size < needed:
        raise ValueError(f"values has {x.size} entries; max_components={max_components} needs at least {needed} "
                         f"({VALUES_PER_COMPONENT} per component)")
    if np.ptp(x) == 0:
        raise ValueError(f"values are all equal ({x[0]!r}); a mixture of Gaussians needs values that spread")
    column = x[:, None]
    # k-means++ seeding: as good as full k-means here and some 30 times faster to start
    fits = [GaussianMixture(k, n_init=n_init, init_params="k-means++", random_state=seed % 2**32).fit(column)
            for k in range(1, max_components + 1)]
    bic = tuple(float(f.bic(column)) for f in fits)
    best = fits[int(np.argmin(bic))]
    order = np.argsort(best.means_.ravel())
    return MixtureFit(means=tuple(best.means_.ravel()[order].tolist()),
                      stds=tuple(np.sqrt(best.covariances_.ravel()[order]).tolist()),
                      weights=tuple(best.weights_[order].tolist()), bic=bic, n_values=int(x.size))


def mixture_summary(fit: MixtureFit) -> dict:
    """The fit's numbers by name, components counted from the lowest mean.

    Keys: ``components``, ``values``; ``mean_1``, ``std_1``, ``weight_1``, ... per component (µS, µS,
    fraction); ``bic_1``, ``bic_2``, ... per number of components tried; ``bic_margin``, how much higher
    the runner-up's BIC is than the chosen one's (0 when only one number of components was tried);
    ``bic_penalty``, the BIC cost of one more component, ``3 ln n`` (a mean, a spread and a weight).
    """
    out = {"components": fit.components, "values": fit.n_values, "bic_penalty": 3 * math.log(fit.n_values)}
    for k, (mean, std, weight) in enumerate(zip(fit.means, fit.stds, fit.weights), start=1):
        out.update({f"mean_{k}": mean, f"std_{k}": std, f"weight_{k}": weight})
    out.update({f"bic_{k}": b for k, b in enumerate(fit.bic, start=1)})
    ranked = sorted(fit.bic)
    out["bic_margin"] = ranked[1] - ranked[0] if len(ranked) > 1 else 0.0
    return out


def pair_cells(pairs: Pairs) -> torch.Tensor:
    """Every cell of ``pairs``, ``G+`` then ``G-``, as one flat tensor (µS)."""
    return torch.cat([pairs.g_plus.flatten(), pairs.g_minus.flatten()])


def first_pairs(pairs: Pairs, n: int) -> Pairs:
    """The first ``n`` pairs of an array (in row-major order), flat, with their RESET marks."""
    if not (is_count(n) and 1 <= n <= pairs.g_plus.numel()):
        raise ValueError(f"n={n!r} must be an integer from 1 to the array's {pairs.g_plus.numel()} pairs")
    reset = None if pairs.reset is None else pairs.reset.flatten()[:n]
    return Pairs(pairs.g_plus.flatten()[:n], pairs.g_minus.flatten()[:n], reset)


def joint_summary(pairs: Pairs) -> dict:
    """The joint distribution of ``G+`` and ``G-`` over the pairs that are not RESET.

    Keys: ``pairs``, ``reset`` (RESET pairs), ``kept``, ``corr`` (correlation of ``G+`` and ``G-`` over
    the other pairs: 0 for independently formed cells), ``corr_se`` (the standard error of that correlation
    for independent normal cells, ``1 / sqrt(kept - 1)``), ``reset_max_us`` (the largest conductance of a
    RESET cell, ``nan`` when there is none).
    """
    reset = torch.zeros_like(pairs.g_plus, dtype=torch.bool) if pairs.reset is None else pairs.reset.bool()
    kept = ~reset
    if int(kept.sum()) < 2:
        raise ValueError(f"pairs has {int(kept.sum())} pairs that are not RESET; a correlation needs at least 2")
    g_plus, g_minus = pairs.g_plus[kept].double(), pairs.g_minus[kept].double()
    reset_cells = torch.cat([pairs.g_plus[reset], pairs.g_minus[reset]])
    return {"pairs": reset.numel(), "reset": int(reset.sum()), "kept": int(kept.sum()),
            "corr": torch.corrcoef(torch.stack([g_plus, g_minus]))[0, 1].item(),
            "corr_se": 1 / math.sqrt(int(kept.sum()) - 1),
            "reset_max_us": reset_cells.max().item() if reset_cells.numel() else float("nan")}
