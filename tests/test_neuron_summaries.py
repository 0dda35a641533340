"""The LIF chapter's measurements against closed forms and hand-computed cases."""

import math

import pytest
import torch

from primekit.experiments import neuron_summaries as ns
from primekit.snn.neurons import LIF, PRIME_LIF, LIFParameters
from primekit.snn.surrogate import FastSigmoid, Rectangle, Surrogate


class _Zero(Surrogate):
    def grad(self, x):
        return torch.zeros_like(x)


def test_time_constant():
    s = ns.time_constant(PRIME_LIF)                      # retention 0.2
    assert s["tau_steps"] == pytest.approx(1 / math.log(5))
    assert s["memory_3_steps"] == pytest.approx(0.008)
    with pytest.raises(ValueError, match="retention"):
        ns.time_constant(LIFParameters(decay=0.0))


def test_trace_summary():
    current = torch.tensor([0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
    v = torch.tensor([0.1, 0.12, 0.3, 0.2, 0.3, -0.05])
    spikes = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    s = ns.trace_summary(current, v, spikes, weak=slice(0, 2), moderate=slice(2, 4), strong=slice(4, 6))
    assert s["weak_level"] == pytest.approx(0.1) and s["weak_limit"] == pytest.approx(0.125)
    assert s["weak_spikes"] == 0 and s["moderate_rate"] == 0.5 and s["strong_rate"] == 1.0
    assert s["min_v"] == pytest.approx(-0.05)
    with pytest.raises(ValueError, match="shapes"):
        ns.trace_summary(current, v[:3], spikes, slice(0, 1), slice(1, 2), slice(2, 3))


def test_raster_summary():
    mean_current = torch.tensor([0.10, 0.16, 0.17, 0.30])          # the first two are at most 0.2 x 0.8
    raster = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    assert ns.raster_summary(mean_current, raster) == {"below": 2, "below_fired": 1, "top_rate": 0.75}
    with pytest.raises(ValueError, match="raster"):
        ns.raster_summary(mean_current, raster[:, :3])


def test_rate_curves_match_the_closed_form():
    grid = torch.tensor([0.0, 0.15, 0.161, 0.19, 0.25])
    simulated, closed, gap = ns.rate_curves([0.8, 0.05], grid, 200)
    assert gap < 1 / 200
    prime = ns.decay_label(PRIME_LIF)
    assert prime == "decay 0.8 (retention 0.2), PRIME" and "PRIME" not in ns.decay_label(LIFParameters(decay=0.05))
    assert simulated[prime][0] == 0 and simulated[prime][1] == 0 and simulated[prime][-1] == 1.0
    assert closed[prime][-1] == 1.0 and len(closed[prime]) == len(grid)
    with pytest.raises(ValueError, match="steps=0"):
        ns.rate_curves([0.8], grid, 0)


def test_rate_windows():
    s = ns.rate_windows(PRIME_LIF, LIFParameters(decay=0.05))
    assert s["prime_silent_below"] == pytest.approx(0.16) and s["every_step_above"] == pytest.approx(0.2)
    assert s["prime_window"] == pytest.approx(0.04)
    assert s["long_decay"] == 0.05 and s["long_window"] == pytest.approx(0.19)


def test_spike_count_gradients_by_hand():
    # one step: v = w = 0.15 < 0.2, no spike; d s / d w = H'(w - 0.2): 1 for the rectangle, 1 / (1 + 10 * 0.05)^2
    # for the fast sigmoid, 0 for the exact step
    one = ns.spike_count_gradients({"zero": _Zero(), "rect": Rectangle(), "fast": FastSigmoid()}, 0.15, 1)
    assert one["zero"] == (0, 0.0)
    assert one["rect"] == (0, pytest.approx(1.0))
    assert one["fast"] == (0, pytest.approx(1 / 2.25))
    # two steps with the rectangle: s1 = H(w - th), v2 = r w (1 - s1) + w, so
    # d(s1 + s2)/dw = 1 + (r (1 - s1) - r w * 1 + 1) = 1 + 0.2 - 0.03 + 1 = 2.17
    two = ns.spike_count_gradients({"rect": Rectangle()}, 0.15, 2)
    assert two["rect"] == (0, pytest.approx(2.17))
    with pytest.raises(ValueError, match="steps=0"):
        ns.spike_count_gradients({"rect": Rectangle()}, 0.15, 0)


def test_state_leak_by_hand():
    # fresh: v = 0.17, no spike; started from v = 0.17: 0.2 * 0.17 + 0.17 = 0.204 > 0.2, a spike
    x = torch.full((1, 1, 1), 0.17)
    assert ns.state_leak(LIF(shape=(1,)), x) == {"changed": 1, "spikes": 0}
    leaked = ns.run_without_reset(LIF(shape=(1,)), x, LIF(shape=(1,)).run(x).final_state)
    assert leaked.tolist() == [[[1.0]]]
    assert ns.state_leak(LIF(shape=(1,)), torch.full((1, 1, 1), 0.1)) == {"changed": 0, "spikes": 0}


def test_spike_phrases():
    assert [ns.spikes_text(n) for n in (0, 1, 23, 2857)] == ["no spikes", "1 spike", "23 spikes", "2,857 spikes"]
    assert [ns.fires_text(n) for n in (0, 1, 2, 5)] == ["does not fire", "fires once", "fires twice", "fires 5 times"]
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="count"):
            ns.spikes_text(bad)


def test_quiet_fired_text():
    assert ns.quiet_fired_text(15, 15) == "all 15 of them fire now and then"
    assert ns.quiet_fired_text(15, 3) == "3 of them fire now and then"
    assert ns.quiet_fired_text(15, 1) == "1 of them fires now and then"
    assert ns.quiet_fired_text(15, 0) == "none of them fires"
    with pytest.raises(ValueError, match="fired=16"):
        ns.quiet_fired_text(15, 16)


def test_leak_growth_text_compares_fractions_not_counts():
    grows = ns.leak_growth_text({"changed": 6, "spikes": 2857}, {"changed": 17, "spikes": 3425})
    assert grows == "a silent bug that grows with the neurons' memory"
    # more changed outputs, but a smaller fraction of many more spikes: not larger
    same = ns.leak_growth_text({"changed": 6, "spikes": 100}, {"changed": 10, "spikes": 1000})
    assert same == "a silent bug, here no larger with the longer memory"
