"""Inconsistencies found in the authors' code (public repository ``bo-wang-up/PRIME``) and the choice the book
made for each, with the chapter and the primekit object where the choice lives."""

from __future__ import annotations

from dataclasses import dataclass

from primekit.inference.consistency import PAPER_EPS
from primekit.tables import Table


@dataclass(frozen=True)
class CodeNote:
    """One inconsistency: what the authors' code does, what the book does, and where."""

    theirs: str
    ours: str
    where: str


#: Every inconsistency, in the order of the chapters.
NOTES: tuple[CodeNote, ...] = (
    CodeNote("N-MNIST frames are binned by equal time for training and by equal event count for the "
             "early-stop evaluation",
             "one rule for training and testing (equal time, `FrameSpec(rule=\"time\")`); the released model is "
             "evaluated with equal-count frames, as the authors evaluated it", "event_data"),
    CodeNote("the inpainting early-stop threshold is hard-coded, while a result file's name gives another value",
             f"ε is a parameter of `ConsistencyStop` (default {PAPER_EPS:g}, the hard-coded value) and the chapter "
             "sweeps it", "inpainting"),
    CodeNote("the inpainting early exit re-runs the VAE on the input truncated to t steps, with freshly drawn "
             "latent choices and the first t of the T readout coefficients",
             "a streaming stop that keeps the state (one step per step); the authors' re-run is offered beside it "
             "and compared", "inpainting"),
    CodeNote("the spiking VAE's surrogate gradient window is centred at 0 instead of at the threshold",
             "centred at the threshold (`VAE_LIF`)", "inpainting"),
    CodeNote("datasets and checkpoints are read from absolute paths of the authors' machine",
             "one data root (`$PRIMEKIT_DATA`, else `data/`), the released checkpoint shipped in `data/reference`",
             "reproducibility"),
)


def notes_table(*, links: bool = True) -> Table:
    """The notes as a table: the authors' code, our choice, and the chapter that explains it."""
    rows = [(n.theirs, n.ours, f"{{doc}}`{n.where}`" if links else n.where) for n in NOTES]
    return Table.of(("the authors' code", "the book", "where"), rows)
