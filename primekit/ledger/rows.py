"""The ledger's rows: every figure panel and headline number of the paper, what the paper says, which chapter
measures it, and which values its verdict needs.

The paper's numbers are imported from the modules that use them (one definition each); its claims are
quoted from the captions and abstract (see the Reproducibility appendix for the sources).
"""

from __future__ import annotations

from dataclasses import dataclass

from primekit.energy.prices import PAPER_RATIO_NMNIST
from primekit.experiments.inpainting_summaries import (
    PAPER_LOAD_SAVED_INPAINTING,
    PAPER_RATIO_INPAINTING,
)
from primekit.experiments.method_summaries import PAPER_ACCURACY
from primekit.inference.summaries import PAPER_LOAD_SAVED_NMNIST


@dataclass(frozen=True)
class LedgerRow:
    """One line of the ledger.

    Attributes:
        key: the record's name (``"3b"``, ``"accuracy"``): a chapter records it, the verdict reads it.
        label: how the table names it ("Fig. 3b", "accuracy").
        paper: the paper's value or claim, as the paper states it.
        notebook: the chapter notebook (file stem under ``book/``) that measures it.
        needs: the values the chapter must record for the verdict.
        why_differs: the modelling choice behind a difference, one line, said when the verdict is not
            "reproduced".
    """

    key: str
    label: str
    paper: str
    notebook: str
    needs: tuple[str, ...]
    why_differs: str = ""


#: Every row, in the paper's order: headline numbers first, then the figure panels.
ROWS: tuple[LedgerRow, ...] = (
    LedgerRow("accuracy", "N-MNIST accuracy", f"up to {100 * PAPER_ACCURACY:.1f} % (secondary source)", "early_stop",
              ("accuracy", "low", "high", "n_test"),
              "emulated N-MNIST and the profile's training budget, not the real recordings"),
    LedgerRow("released", "released model", "the authors' checkpoint, trained on real N-MNIST",
              "early_stop", ("accuracy", "low", "high", "real_correct"),
              "trained on real recordings and tested here on emulated ones"),
    LedgerRow("load_nmnist", "load saved, N-MNIST", f"{100 * PAPER_LOAD_SAVED_NMNIST:.1f} %", "early_stop",
              ("saved", "low", "high", "accuracy_cost"),
              "emulated recordings are easier early on than the real ones"),
    LedgerRow("energy_nmnist", "energy ratio, N-MNIST", f"{PAPER_RATIO_NMNIST:.2f}x", "energy",
              ("ratio", "range_low", "range_high"),
              "the paper's energy model is not published; ours prices cited constants"),
    LedgerRow("load_inpainting", "load saved, inpainting", f"{100 * PAPER_LOAD_SAVED_INPAINTING:.1f} %", "inpainting",
              ("saved", "low", "high"), "a reduced spiking VAE trained on the profile's digits"),
    LedgerRow("energy_inpainting", "energy ratio, inpainting", f"{PAPER_RATIO_INPAINTING:.2f}x", "inpainting",
              ("ratio", "range_low", "range_high"),
              "the paper's energy model is not published; ours prices cited constants"),
    LedgerRow("is_comparable", "Inception Score", "comparable to software", "inpainting",
              ("hardware", "software", "tolerance"), "a reduced spiking VAE and an MNIST classifier as IS network"),
    LedgerRow("2b", "Fig. 2b", "pruned pairs RESET: a conductance peak near zero", "memristor_noise",
              ("reset_share", "expected_share"), "conductances drawn from our device model, not measured"),
    LedgerRow("2d", "Fig. 2d", "mean and spread of 128 cells over 10,000 re-programming cycles", "memristor_noise",
              ("cycles", "cells"), "needs the memristor chip; the book shows its device model"),
    LedgerRow("3b", "Fig. 3b", "accuracy and mean timesteps vs threshold, hardware close to software", "early_stop",
              ("exits_rise", "hardware_gap", "tolerance"),
              "emulated data; the chip is our device model with read noise"),
    LedgerRow("3c", "Fig. 3c", "t-SNE clusters of the features sharpen with the threshold", "early_stop",
              ("agreement_low", "agreement_full"), "t-SNE of the pooled spikes of the software network"),
    LedgerRow("3d", "Fig. 3d", "confusion and accuracy improve with the threshold", "early_stop",
              ("accuracy_low", "accuracy_full"), "emulated data"),
    LedgerRow("3e", "Fig. 3e", "pruned random weights close to weight tuning; untrained weights at chance",
              "subnet_scoring", ("weight_tuning", "software_pruning", "memristor_pruning", "random_best",
                                 "tolerance", "chance"),
              "the profile's training budget on emulated data"),
    LedgerRow("3f", "Fig. 3f", "hybrid analogue-digital below digital energy at every threshold", "energy",
              ("hybrid_below_at_every_threshold",), "our energy model"),
    LedgerRow("3g", "Fig. 3g", "accuracy robust to programming noise", "noise_robustness",
              ("pruned_drop", "tuned_drop", "resolution"),
              "our cell-relative noise model, in which Memristor Pruning's kept cells are never written"),
    LedgerRow("4b", "Fig. 4b", "reconstruction loss and mean timesteps vs threshold, hardware close to software",
              "inpainting", ("hardware_loss", "software_loss", "tolerance"), "a reduced spiking VAE"),
    LedgerRow("4c", "Fig. 4c", "early stop keeps the reconstruction loss of the full run", "inpainting",
              ("largest_change", "tolerance"), "a reduced spiking VAE"),
    LedgerRow("4d", "Fig. 4d", "reconstruction loss robust to programming noise", "inpainting",
              ("pruned_increase", "tuned_increase", "resolution"),
              "our cell-relative noise model, in which Memristor Pruning's kept cells are never written"),
    LedgerRow("4e", "Fig. 4e", "Inception Score vs threshold by method", "inpainting",
              ("largest_change", "tolerance"), "an MNIST classifier as IS network"),
    LedgerRow("4f", "Fig. 4f", "hybrid analogue-digital below digital energy", "inpainting",
              ("ratio",), "our energy model"),
    LedgerRow("5b", "Fig. 5b", "programming noise: heatmap and quasi-normal histogram", "memristor_noise",
              ("programming_noise",), "needs the memristor chip; the book shows its device model"),
    LedgerRow("5c", "Fig. 5c", "read noise of 15 cells over 10,000 reads", "memristor_noise",
              ("read_noise",), "needs the memristor chip; the book shows its device model"),
    LedgerRow("5d", "Fig. 5d", "classification robust to noise at several thresholds", "noise_robustness",
              ("largest_gap", "tolerance"), "our cell-relative noise model"),
    LedgerRow("5e", "Fig. 5e", "inpainting robust to noise at several thresholds", "inpainting",
              ("largest_change", "tolerance"), "our cell-relative noise model"),
)

#: Rows by key.
BY_KEY = {row.key: row for row in ROWS}


def row(key: str) -> LedgerRow:
    """The ledger row named ``key``."""
    if key not in BY_KEY:
        raise ValueError(f"key={key!r} is not a ledger row; rows are {list(BY_KEY)}")
    return BY_KEY[key]
