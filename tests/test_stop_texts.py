"""The early-stop chapter's number-dependent sentences, on hand-made numbers with known wording."""

import numpy as np
import pytest
import torch

from primekit.inference import stop_texts as st


def test_class_extremes_name_every_tied_class():
    labels = np.array([0, 0, 1, 1, 2, 2])
    exits = torch.tensor([2, 4, 6, 7, 7, 6])                  # means 3, 6.5, 6.5: digits 1 and 2 tie
    assert st.class_extremes_text(exits, labels, n_classes=3) == (
        "digit 0 is the easiest (mean exit 3.00) and digits 1 and 2 the hardest (6.50 each)")
    exits = torch.tensor([2, 2, 2, 2, 9, 9])                  # digits 0 and 1 tie at the low end
    assert st.class_extremes_text(exits, labels, n_classes=3) == (
        "digits 0 and 1 are the easiest (mean exit 2.00 each) and digit 2 the hardest (9.00)")
    assert st.class_extremes_text(torch.full((6,), 5), labels, n_classes=3) == (
        "every digit exits after 5.00 steps on average")
    absent = st.class_extremes_text(torch.tensor([1, 3]), np.array([0, 2]), n_classes=4)
    assert absent == "digit 0 is the easiest (mean exit 1.00) and digit 2 the hardest (3.00)"
    with pytest.raises(ValueError, match="no samples"):
        st.class_extremes_text(torch.tensor([], dtype=torch.long), np.array([], dtype=int), n_classes=3)


def test_batch_text_counts_the_sample_steps():
    assert st.batch_text(torch.tensor([10, 7, 5, 10]), 10) == (
        "The batch shrinks as samples finish: 32 sample-steps were computed instead of 40.")
    assert st.batch_text(torch.tensor([10, 10]), 10).startswith(
        "None of these samples stopped before step 10, so all 20 sample-steps were computed")
    with pytest.raises(ValueError, match="empty"):
        st.batch_text(torch.tensor([], dtype=torch.long), 10)
    with pytest.raises(ValueError, match="timesteps"):
        st.batch_text(torch.tensor([1]), 0)


def test_paper_gap_text_chooses_its_question_by_the_savings():
    args = {"released_exit": 7.49, "released_accuracy": "97.1 % (95 % CI 95.9 to 98.0)", "paper_saved": 0.77,
            "theta": 0.8, "data_name": "emulated N-MNIST", "real_exit": 6}
    far = st.paper_gap_text({"software": 0.093, "hardware": 0.154}, 0.251, **args)
    assert far.startswith("Why is the saving at θ = 0.8 so far below the paper's 77.0 %? The authors' own "
                          "network, trained on real N-MNIST, behaves the same way on our emulated N-MNIST test "
                          "split: at θ = 0.8 it saves 25.1 % of the timesteps (mean exit 7.49")
    assert far.endswith("so the threshold chosen for real data is cautious here.")
    released_fast = st.paper_gap_text({"software": 0.093}, 0.60, **args)
    assert "Not because of the data alone." in released_fast and "saves more on our" in released_fast
    close = st.paper_gap_text({"software": 0.70, "hardware": 0.40}, 0.72, **args)
    assert close.startswith("At θ = 0.8 our networks save 70.0 % and 40.0 % of the timesteps, the paper up to 77.0 %.")
    assert "so far below" not in close
    with pytest.raises(ValueError, match="saved is empty"):
        st.paper_gap_text({}, 0.2, **args)


def test_training_size_text_only_for_a_smaller_training_set():
    assert st.training_size_text(4000, "emulated N-MNIST").startswith(
        "Our networks are also trained on 4,000 recordings of emulated N-MNIST rather than the 60,000 real ones")
    assert st.training_size_text(60_000, "real N-MNIST") == ""
