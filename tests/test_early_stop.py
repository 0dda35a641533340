"""Early stop: hand-made logits, batched vs one-by-one, limits of the threshold, the released model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import primekit
from primekit.data.events import read_reference_recording
from primekit.inference.early_stop import (
    MarginConfidence,
    SoftmaxConfidence,
    run_early_stop,
    run_early_stop_one_by_one,
    steps_saved,
)
from primekit.snn.models import PRIMENet, load_released_model, software_sources
from primekit.snn.timeloop import StepModule


class Replay(StepModule):
    """A 'model' whose output at step t is x[t] itself (to feed a policy hand-made logits)."""

    def init_state(self, batch_size):
        return None

    def step(self, x_t, state):
        return x_t, state


def test_hand_made_logits_exit_where_computed_by_hand():
    # two classes; outputs 0, 2, 2, 2: running means 0, 1, 4/3, 1.5
    # p_max = sigmoid(mean / 2): 0.5, 0.6225, 0.6608, 0.6792 -> with threshold 0.65 the exit is t = 3
    outputs = torch.tensor([[0.0, 0.0], [2.0, 0.0], [2.0, 0.0], [2.0, 0.0]])[:, None, :]
    result = run_early_stop(Replay(), outputs, SoftmaxConfidence(threshold=0.65))
    assert result.exit_step.tolist() == [3]
    assert result.prediction.tolist() == [0]
    assert result.confidence.item() == pytest.approx(1 / (1 + math.exp(-(4 / 3) / 2)), abs=1e-6)
    assert result.steps_run == 3


def test_margin_policy_by_hand():
    outputs = torch.tensor([[0.0, 0.0, 0.0], [4.0, 0.0, 0.0], [4.0, 0.0, 0.0]])[:, None, :]
    # means 0, 2, 8/3; softmax(mean / 2) margin: 0, (e - 1)/(e + 2) = 0.3679, ...
    result = run_early_stop(Replay(), outputs, MarginConfidence(threshold=0.36))
    assert result.exit_step.tolist() == [2]


def test_threshold_limits():
    model = PRIMENet(software_sources(seed=1)).eval()
    x = torch.poisson(torch.full((6, 5, 2, 34, 34), 0.4), generator=primekit.make_generator(2))
    eager = run_early_stop(model, x, SoftmaxConfidence(threshold=1e-6))
    assert eager.exit_step.tolist() == [1] * 5  # any max probability exceeds ~0
    never = run_early_stop(model, x, SoftmaxConfidence(threshold=1.0))
    assert never.exit_step.tolist() == [6] * 5  # a probability never exceeds 1
    assert never.steps_run == 30 and eager.steps_run == 5


@pytest.mark.parametrize("quantile", [0.3, 0.6, 0.9])
def test_batched_and_one_by_one_give_identical_exits_and_predictions(quantile):
    model = PRIMENet(software_sources(seed=3)).eval()
    rates = torch.rand(1, 12, 2, 34, 34, generator=primekit.make_generator(4))
    x = torch.poisson(rates.expand(8, -1, -1, -1, -1).contiguous(), generator=primekit.make_generator(5))
    # a threshold inside the spread of this random network's running confidences, so exits differ
    with torch.no_grad():
        outputs = model.run(x).outputs
    running = torch.softmax(outputs.cumsum(0) / torch.arange(1, 9).view(-1, 1, 1) / 2.0, dim=-1).max(-1).values
    policy = SoftmaxConfidence(threshold=float(running.quantile(quantile)))
    batched = run_early_stop(model, x, policy)
    alone = run_early_stop_one_by_one(model, x, policy)
    assert torch.equal(batched.exit_step, alone.exit_step)
    assert torch.equal(batched.prediction, alone.prediction)
    assert torch.allclose(batched.confidence, alone.confidence, atol=1e-5)
    assert batched.steps_run == int(batched.exit_step.sum())  # finished samples really left the batch
    assert len(set(batched.exit_step.tolist())) > 1, "the test needs samples exiting at different steps"
    # the exit is the first step whose running confidence passes the threshold (or T)
    passed = running > policy.threshold
    first = torch.where(passed.any(0), passed.float().argmax(0) + 1, torch.tensor(8))
    assert torch.equal(batched.exit_step, first)


def test_load_saved():
    assert steps_saved(torch.tensor([10, 10]), 10) == 0.0
    assert steps_saved(torch.tensor([1, 3]), 10) == pytest.approx(0.8)
    with pytest.raises(ValueError, match=r"exit steps must lie in \[1, 10\]"):
        steps_saved(torch.tensor([0, 3]), 10)


@pytest.mark.parametrize("kwargs, message", [
    ({"threshold": 0.0}, r"threshold=0\.0 must be in \(0, 1\]"),
    ({"threshold": 1.5}, r"threshold=1\.5 must be in \(0, 1\]"),
    ({"temperature": 0.0}, r"temperature=0\.0 must be > 0"),
    ({"temperature": -2}, r"temperature=-2 must be > 0"),
])
def test_bad_policy_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxConfidence(**kwargs)


def test_released_model_exits_at_step_6_on_the_real_sample():
    model = load_released_model()
    frames = primekit.to_frames(read_reference_recording(), primekit.FrameSpec(10, "count"))
    x = torch.from_numpy(frames.astype(np.float32))[:, None]
    result = run_early_stop(model, x, SoftmaxConfidence(threshold=0.8))
    assert result.exit_step.tolist() == [6] and result.prediction.tolist() == [4]
    assert result.confidence.item() == pytest.approx(0.836, abs=1e-3)
