"""Property-based tests (hypothesis, derandomized so CI is reproducible) of the data path and core invariants:
events round-trip through the writer and reader, frames conserve event counts, the subnet mask keeps exactly its
count, early-stop exits lie in 1..T and replay equals streaming, energy is non-negative and monotone in counts."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from primekit.data.events import make_events, read_nmnist_bin, write_nmnist_bin
from primekit.data.frames import FrameSpec, to_frames
from primekit.energy.count_records import KINDS, CountTable
from primekit.energy.prices import EnergyConfig, energy
from primekit.inference.early_stop import SoftmaxConfidence, replay, run_early_stop
from primekit.snn.subnet import keep_count, topk_mask

PROPERTY = settings(derandomize=True, deadline=None, max_examples=60, database=None)


@st.composite
def event_arrays(draw, max_events=60, max_t=2**24):
    """Sorted event arrays in the 34 x 34 sensor range, timestamps up to ``max_t`` us (beyond 2**23: markers)."""
    n = draw(st.integers(0, max_events))
    x = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 33)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 33)))
    t = np.sort(draw(hnp.arrays(np.int64, n, elements=st.integers(0, max_t))))
    p = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    return make_events(x, y, t, p)


@PROPERTY
@given(events=event_arrays())
def test_events_round_trip_through_the_writer_and_reader(tmp_path_factory, events):
    path = tmp_path_factory.mktemp("bins") / "events.bin"
    write_nmnist_bin(path, events)
    back = read_nmnist_bin(path)
    assert back.dtype == events.dtype and np.array_equal(back, events)


@PROPERTY
@given(events=event_arrays(max_t=400_000), timesteps=st.integers(1, 12), rule=st.sampled_from(["time", "count"]))
def test_frames_conserve_event_counts(events, timesteps, rule):
    frames = to_frames(events, FrameSpec(timesteps=timesteps, rule=rule))
    assert frames.shape == (timesteps, 2, 34, 34)
    counted = np.ones(len(events), dtype=bool)   # equal count: every event
    if rule == "time" and len(events):            # tonic's bins: T bins of (t1 - t0) // T us from t0; the tail is dropped
        width = (int(events["t"][-1]) - int(events["t"][0])) // timesteps
        counted = events["t"] < events["t"][0] + timesteps * width
    assert int(frames.sum()) == int(counted.sum())
    # every counted event lands at its own pixel and polarity
    per_pixel = np.zeros((2, 34, 34), dtype=np.int64)
    kept = events[counted]
    np.add.at(per_pixel, (kept["p"].astype(np.int64), kept["y"].astype(np.int64), kept["x"].astype(np.int64)), 1)
    assert np.array_equal(frames.sum(axis=0), per_pixel)


@PROPERTY
@given(events=event_arrays(max_t=400_000), timesteps=st.integers(1, 12), window=st.integers(1, 500_000))
def test_frames_with_a_window_count_the_events_inside_it(events, timesteps, window):
    frames = to_frames(events, FrameSpec(timesteps=timesteps, rule="time", window_us=window))
    assert int(frames.sum()) == int((events["t"] < window).sum())


@PROPERTY
@given(scores=hnp.arrays(np.float32, st.integers(1, 200), elements=st.floats(-4, 4, width=32)),
       keep_ratio=st.floats(0.01, 1.0))
def test_the_mask_keeps_exactly_its_count_for_any_scores(scores, keep_ratio):
    mask = topk_mask(torch.from_numpy(scores), keep_ratio)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert int(mask.sum()) == keep_count(scores.size, keep_ratio)
    # no pruned score is larger in magnitude than a kept one
    magnitudes = np.abs(scores)
    kept, pruned = magnitudes[mask.numpy() == 1], magnitudes[mask.numpy() == 0]
    assert not (kept.size and pruned.size) or pruned.max() <= kept.min()


class _Replayer(torch.nn.Module):
    """A step model whose output at step t is a fixed recording's step t; its state is (step, row) per sample, so
    samples that leave the batch take their rows with them."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs

    def init_state(self, batch_size):
        return (torch.zeros(batch_size, dtype=torch.long), torch.arange(batch_size))

    def step(self, x_t, state):
        t, rows = state
        return self.outputs[t, rows], (t + 1, rows)


@PROPERTY
@given(outputs=hnp.arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(1, 6), st.integers(2, 5)),
                          elements=st.floats(-6, 6, width=32)),
       threshold=st.floats(0.05, 0.99))
def test_early_stop_exits_lie_in_1_to_T_and_replay_equals_streaming(outputs, threshold):
    outputs = torch.from_numpy(outputs)
    steps, batch = outputs.shape[:2]
    policy = SoftmaxConfidence(threshold)
    replayed = replay(outputs, policy)
    assert int(replayed.exit_step.min()) >= 1 and int(replayed.exit_step.max()) <= steps
    assert replayed.steps_run == int(replayed.exit_step.sum())
    streamed = run_early_stop(_Replayer(outputs), torch.zeros(steps, batch, 1), policy)
    assert torch.equal(streamed.exit_step, replayed.exit_step)
    assert torch.equal(streamed.prediction, replayed.prediction)


@PROPERTY
@given(values=hnp.arrays(np.float64, (3, len(KINDS)), elements=st.floats(0, 1e6)),
       extra=hnp.arrays(np.float64, (3, len(KINDS)), elements=st.floats(0, 1e6)),
       system=st.sampled_from(["digital", "hybrid"]), memory=st.booleans(),
       dataflow=st.sampled_from(["event", "dense"]))
def test_energy_is_non_negative_and_monotone_in_counts(values, extra, system, memory, dataflow):
    config = EnergyConfig(include_memory=memory, digital_dataflow=dataflow)
    layers = ("a", "b", "c")
    base = energy(CountTable(values, layers), config, system)
    more = energy(CountTable(values + extra, layers), config, system)
    assert (base.values >= 0).all() and base.total_pj >= 0
    assert (more.values >= base.values - 1e-9 * np.abs(base.values)).all()
    assert more.total_pj >= base.total_pj * (1 - 1e-12)
