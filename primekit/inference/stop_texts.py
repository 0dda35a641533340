"""Sentences of the early-stop chapter whose wording depends on the measured numbers.

A claim such as "digit 6 is the hardest" or "far below the paper's saving" holds for one build and not for
another (a tie between digits, another profile, the real data); each function here reads the numbers and
chooses the words, so the text stays true wherever the book is built. Fractions in (0.963 = 96.3 %), exit
steps in timesteps (1..T); every function returns plain text for ``{glue:text}``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from primekit.checks import check_integer, check_number
from primekit.inference.metrics import per_class_mean
from primekit.tables import percent

#: Recordings in the real N-MNIST training set (Orchard et al. 2015), the authors' training data.
NMNIST_TRAIN_SIZE = 60_000


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def class_extremes_text(exit_step, labels, n_classes: int = 10, decimals: int = 2) -> str:
    """"digit 2 is the easiest (mean exit 4.28) and digits 1 and 6 the hardest (6.55 each)": the classes with
    the lowest and highest mean exit step, naming every class that ties at the ``decimals`` shown (classes
    without samples ignored)."""
    decimals = check_integer("decimals", decimals, 0)
    means = per_class_mean(torch.as_tensor(exit_step).float(), labels, n_classes)
    present = np.flatnonzero(~np.isnan(means))
    if present.size == 0:
        raise ValueError("labels has no samples; need at least one")
    shown = np.round(means[present], decimals)
    low, high = shown.min(), shown.max()
    if low == high:
        return f"every digit exits after {low:.{decimals}f} steps on average"

    def named(value: float) -> tuple[str, str]:
        classes = [str(c) for c, v in zip(present, shown) if v == value]
        plural = len(classes) > 1
        return f"digit{'s' if plural else ''} {_joined(classes)}", f"{value:.{decimals}f}{' each' if plural else ''}"

    (easy, easy_exit), (hard, hard_exit) = named(low), named(high)
    verb = "are" if easy.startswith("digits") else "is"
    return f"{easy} {verb} the easiest (mean exit {easy_exit}) and {hard} the hardest ({hard_exit})"


def batch_text(exit_step, timesteps: int) -> str:
    """What streaming did to one batch of samples with these exit steps: the sample-steps computed against
    ``timesteps`` for every sample, or that no sample left early."""
    timesteps = check_integer("timesteps", timesteps, 1)
    exits = torch.as_tensor(exit_step).long()
    if exits.numel() == 0:
        raise ValueError("exit_step is empty; give the exit step of at least one sample")
    run, full = int(exits.sum()), exits.numel() * timesteps
    if run < full:
        return f"The batch shrinks as samples finish: {run:,d} sample-steps were computed instead of {full:,d}."
    return (f"None of these samples stopped before step {timesteps}, so all {full:,d} sample-steps were computed; "
            f"at the lower thresholds below, samples leave earlier.")


def paper_gap_text(saved: Mapping[str, float], released_saved: float, released_exit: float, released_accuracy: str,
                   paper_saved: float, theta: float, data_name: str, real_exit: int) -> str:
    """Our saving at ``theta`` beside the paper's ``paper_saved`` and the released network's on our test split.

    ``saved``: ``{network: load saved at theta}`` of our networks; "far below" is said when all of them save
    less than half of ``paper_saved``, and the released network's slow exits are called the same behaviour
    only when it, too, saves less than half.
    """
    paper_saved = check_number("paper_saved", paper_saved, above=0, at_most=1)
    if not saved:
        raise ValueError("saved is empty; give the load saved by at least one of our networks")
    exits = (f"at θ = {theta:g} it saves {percent(released_saved)} of the timesteps (mean exit {released_exit:.2f}, "
             f"accuracy {released_accuracy}), although on the real recording above it stopped at step {real_exit}")

    def released(verb: str) -> str:
        return f"The authors' own network, trained on real N-MNIST, {verb} on our {data_name} test split: {exits}."

    if max(saved.values()) >= paper_saved / 2:
        return (f"At θ = {theta:g} our networks save {_joined([percent(v) for v in saved.values()])} of the timesteps, "
                f"the paper up to {percent(paper_saved)}. " + released("runs"))
    question = f"Why is the saving at θ = {theta:g} so far below the paper's {percent(paper_saved)}?"
    if released_saved < paper_saved / 2:
        return (f"{question} " + released("behaves the same way") + " On these recordings the confidence of "
                "every network builds up slowly, so the threshold chosen for real data is cautious here.")
    return (f"{question} Not because of the data alone. " + released("saves more")
            + " Our networks' confidence builds up more slowly than theirs.")


def training_size_text(n_train: int, data_name: str) -> str:
    """A sentence on our training set beside the authors' (empty when ours is as large as theirs)."""
    n_train = check_integer("n_train", n_train, 1)
    if n_train >= NMNIST_TRAIN_SIZE:
        return ""
    return (f"Our networks are also trained on {n_train:,d} recordings of {data_name} rather than the "
            f"{NMNIST_TRAIN_SIZE:,d} real ones of the N-MNIST training set, so compare the shape of the trade-off, "
            f"not the digits.")
