"""Bad input, as users get it wrong, for the public entry points: each call must fail with a ValueError (or the
named file error) whose message names the parameter and what is allowed, never return a wrong answer or end in
a bare error from deep inside NumPy or torch. Every row here returned a wrong result or a bare error before."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import primekit
from primekit import profiles
from primekit.chip.deploy import deploy
from primekit.chip.memristor import (
    MemristorConfig,
    crossbar_currents,
    form,
    program,
    reprogram_cycles,
    weights_to_pairs,
)
from primekit.data.emulator import EmulatorConfig, emulate
from primekit.data.events import make_events
from primekit.data.eventstats import mean_event_rate
from primekit.data.frames import FrameSpec, to_frames
from primekit.energy.count_records import CountTable, OperationCounts
from primekit.energy.prices import EnergyConfig, energy
from primekit.experiments.inpainting_training import VAETrainConfig
from primekit.experiments.method_summaries import keep_count_table
from primekit.experiments.training import TrainConfig
from primekit.inference.consistency import consistency_scores
from primekit.inference.early_stop import SoftmaxConfidence, replay, run_early_stop, steps_saved
from primekit.inference.evaluate import record_outputs
from primekit.inference.metrics import tsne
from primekit.inference.summaries import tsne_perplexity
from primekit.inference.sweeps import threshold_sweep, timed_sweep
from primekit.snn import draws
from primekit.snn.neurons import LIFParameters, integrator_step, lif_step
from primekit.snn.subnet import SubnetLinear, keep_count, topk_mask
from primekit.snn.surrogate import FastSigmoid
from primekit.snn.vae import SpikingVAE
from primekit.snn.weight_sources import FrozenWeights, GaussianWeights, TrainableWeights
from primekit.tables import percent


def _digits(scale=1.0):
    """Two 28 x 28 'digits': a bright square on black, intensities 0-255 times ``scale``."""
    digits = np.zeros((2, 28, 28))
    digits[:, 8:20, 10:18] = 255.0 * scale
    return digits


def _nan_digits():
    digits = _digits()
    digits[0, 5, 5] = np.nan
    return digits


class _Echo(torch.nn.Module):
    """A step model that outputs its input's mean per sample over 3 classes."""

    def init_state(self, batch_size):
        return None

    def step(self, x_t, state):
        return x_t.flatten(1)[:, :3], state


class _Split:
    def __init__(self, n=5):
        self.labels = np.zeros(n, dtype=np.int64)
        self.frames = torch.rand(2, n, 3, generator=primekit.make_generator(0))

    def __len__(self):
        return len(self.labels)

    def time_major(self, index):
        return self.frames[:, torch.as_tensor(index)]


def _nan_frames():
    x = torch.rand(3, 2, 3, generator=primekit.make_generator(1))
    x[1, 0, 2] = float("nan")
    return x


def _weights_with_nan():
    weights = torch.randn(4, 3, generator=primekit.make_generator(2))
    weights[2, 1] = float("nan")
    return SubnetLinear(TrainableWeights(weights), keep_ratio=1.0)


def _events():
    return make_events([1, 2, 3], [4, 5, 6], [10, 20, 30], [0, 1, 1])


CASES = [
    # data: digits scaled to [0, 1] gave a recording of background noise only
    ("emulate on digits in [0, 1]", lambda: emulate(_digits(1 / 255), show_progress=False),
     r"digits range from 0.0 to 1.0: they look scaled to \[0, 1\], but the emulator expects MNIST intensities 0-255"),
    ("emulate with a NaN pixel", lambda: emulate(_nan_digits(), show_progress=False),
     r"digits holds 1 NaN or infinite value; every entry must be finite"),
    ("emulate with fractional indices", lambda: emulate(_digits(), [0.5, 1.7], show_progress=False),
     r"indices holds fractional or non-finite values; indices must be integers"),
    ("a NaN digit origin", lambda: EmulatorConfig(digit_origin_px=(math.nan, 0.5)),
     r"digit_origin_px=\(nan, 0.5\) must hold finite numbers"),
    ("to_frames with a number for the spec", lambda: to_frames(_events(), 10),
     r"spec must be a FrameSpec \(e.g. FrameSpec\(timesteps=10\)\), got int 10"),
    # chip: infinite or NaN values became NaN conductances counted as "clipped"
    ("an infinite device range", lambda: MemristorConfig(g_max_us=math.inf), r"g_max_us=inf must be finite"),
    ("infinite programming noise", lambda: MemristorConfig(programming_noise=math.inf),
     r"programming_noise=inf must be a finite number >= 0"),
    ("NaN weights deployed", lambda: deploy(_weights_with_nan(), MemristorConfig()),
     r"weights holds 1 NaN or infinite value"),
    ("a dict deployed as the model", lambda: deploy({"layer": 1}, MemristorConfig()),
     r"model must be a torch.nn.Module, got dict"),
    # inference: NaN frames exited at T predicting class 0
    ("early stop on NaN frames", lambda: run_early_stop(_Echo(), _nan_frames(), SoftmaxConfidence(0.8)),
     r"x holds 1 NaN or infinite value\(s\); every entry must be finite"),
    ("replay of NaN outputs", lambda: replay(_nan_frames(), SoftmaxConfidence(0.8)),
     r"outputs holds 1 NaN or infinite value\(s\)"),
    ("a boolean mask shorter than the split", lambda: record_outputs(_Echo(), _Split(5), index=[True, False, True],
                                                                     show_progress=False),
     r"index is a boolean mask of shape \(3,\); a mask needs one entry per sample of the split \(5\)"),
    ("fractional sample indices", lambda: record_outputs(_Echo(), _Split(5), index=[0.5, 2.0], show_progress=False),
     r"index holds fractional or non-finite values"),
    ("timed_sweep without batches", lambda: timed_sweep(_Echo(), [], [0.5]),
     r"batches is empty: give at least one batch"),
    # energy: negative counts and infinite prices were accepted
    ("fractional exit steps", lambda: OperationCounts(torch.ones(4, 2, 1, 1), ("layer",), ("k",)).until_exit(
        torch.tensor([1.5, 2.0])), r"exit_step holds fractional steps; exit steps are whole steps in \[1, T\]"),
    ("negative counts", lambda: CountTable(np.array([[1.0, -2.0]]), ("layer",), ("a", "b")),
     r"values must be finite counts >= 0; got a minimum of -2.0"),
    ("an infinite price", lambda: EnergyConfig(adc_pj=math.inf), r"adc_pj=inf must be a finite number > 0"),
    # the sweep over the rest of the API: each of these ended in a bare TypeError, AttributeError or a wrong value
    ("a surrogate slope given as text", lambda: FastSigmoid(slope="3"), r"slope='3' must be a finite number > 0"),
    ("an ON fraction given as text", lambda: EmulatorConfig(noise_on_fraction="3"),
     r"noise_on_fraction='3' must be a finite number >= 0"),
    ("a tensor as the chip's config", lambda: program(form((2, 2)), torch.zeros(2, 2)),
     r"config must be a MemristorConfig, got Tensor"),
    ("a tensor as the integrator's state", lambda: integrator_step(torch.zeros(2), torch.zeros(2)),
     r"state must be an IntegratorState or None, got Tensor"),
    ("a negative consistency scale", lambda: consistency_scores(torch.rand(3, 2, 4), scale=-1),
     r"scale=-1 must be a finite number > 0"),
    ("a NaN shown as a percentage", lambda: percent(math.nan), r"fraction=nan must be a finite number"),
    ("a hash of length 0", lambda: profiles.stable_hash({"a": 1}, length=0),
     r"length=0 must be an integer >= 1 and <= 64"),
    ("t-SNE with no principal components", lambda: tsne(np.ones((8, 3)), seed=0, pca_dims=0),
     r"pca_dims=0 must be an integer >= 1"),
    ("a keep-count table kept above 1", lambda: keep_count_table([10], keep_ratio=2),
     r"keep_ratio=2 must be a finite number > 0 and <= 1"),
    ("an event rate in bins of 0 ms", lambda: mean_event_rate([_events()], bin_ms=0),
     r"bin_ms=0 must be a finite number > 0"),
    ("a fractional batch size for draw keys", lambda: draws.fallback_keys(1.5, 0),
     r"batch_size=1.5 must be an integer >= 1"),
    ("no weight sources for the VAE", lambda: SpikingVAE(None),
     r"sources must be a mapping from layer name to weight source, got NoneType"),
    ("a negative default perplexity", lambda: tsne_perplexity(100, default=-1),
     r"default=-1 must be a finite number > 0"),
    # training: a keep ratio of 2, and a keep ratio Weight Tuning ignored
    ("keep_ratio above 1", lambda: TrainConfig("software-pruning", keep_ratio=2),
     r"keep_ratio=2 must be in \(0, 1\] \(the fraction of weights kept\)"),
    ("keep_ratio for Weight Tuning", lambda: TrainConfig("weight-tuning", keep_ratio=0.5),
     r"keep_ratio=0.5 is for the pruning methods; Weight Tuning trains every weight"),
    ("keep_ratio for the VAE's Weight Tuning", lambda: VAETrainConfig("weight-tuning", keep_ratio=0.3),
     r"keep_ratio=0.3 is for the pruning methods"),
    # more entry points that ended in a bare AttributeError, TypeError or RuntimeError, or returned 5.5 weights
    ("threshold_sweep without a recording", lambda: threshold_sweep(None, [0.5]),
     r"recording must be a full-T Recording \(record_outputs\), got NoneType"),
    ("energy of a dict", lambda: energy({}, EnergyConfig(), "digital"), r"counts must be a CountTable"),
    ("keep_count of a fractional size", lambda: keep_count(10.5, 0.5), r"n=10.5 must be an integer >= 1"),
    ("topk_mask of a list", lambda: topk_mask([1.0, 2.0], 0.5), r"scores must be a floating-point torch.Tensor, got list"),
    ("a chip of negative shape", lambda: form((-1, 3)), r"shape=-1 must be an integer >= 1"),
    ("a chip of a dict device", lambda: form((2, 3), {}), r"config must be a MemristorConfig, got dict"),
    ("steps_saved of a list", lambda: steps_saved([1, 2], 3), r"exit_step must be a torch.Tensor of exit steps"),
    ("an infinite spike threshold", lambda: LIFParameters(threshold=math.inf), r"threshold=inf must be a finite number >= 0"),
    ("crossbar currents of a NumPy array", lambda: crossbar_currents(np.ones(2), form((2, 2))),
     r"voltages must be a torch.Tensor \[..., rows\] \(V\), got ndarray"),
    ("lif_step of a list", lambda: lif_step([1.0], None), r"current must be a floating-point torch.Tensor"),
    ("Gaussian weights of negative shape", lambda: GaussianWeights((-2, 2)), r"shape=-2 must be an integer >= 1"),
    ("Gaussian weights with a NaN spread", lambda: GaussianWeights((2, 2), std=math.nan), r"std=nan must be a finite"),
    ("frozen weights with a NaN", lambda: FrozenWeights(torch.tensor([[math.nan]])), r"weight holds 1 NaN"),
    ("weights_to_pairs of a list", lambda: weights_to_pairs([1.0], MemristorConfig()), r"weights must be a torch.Tensor"),
    ("re-programming 1.5 cells", lambda: reprogram_cycles(1.5, 2), r"n_cells=1.5 must be an integer >= 1"),
    # set-up
    ("a number as the profile name", lambda: profiles.get_profile(123),
     r"name=123 must be a profile name, one of \['book', 'paper', 'tiny'\]"),
]


@pytest.mark.parametrize("call, message", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_numpy_integers_are_accepted_where_integers_are():
    spec = FrameSpec(timesteps=np.int64(4))
    frames = to_frames(_events(), spec)
    # t = 10, 20, 30 us in 4 bins of (30 - 10) // 4 = 5 us from t = 10: the last event falls outside
    assert np.array_equal(frames, to_frames(_events(), FrameSpec(timesteps=4))) and int(frames.sum()) == 2
    assert TrainConfig("memristor-pruning", keep_ratio=np.float64(0.3)).keep_ratio == 0.3
    recording = emulate(_digits(), np.array([3, 7], dtype=np.int32), show_progress=False)
    same = emulate(_digits(), [3, 7], show_progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(recording, same)) and len(recording) == 2


def test_keep_ratio_defaults_per_method():
    assert TrainConfig("software-pruning").keep_ratio == 0.5
    assert TrainConfig("weight-tuning").keep_ratio is None
    assert VAETrainConfig("memristor-pruning").keep_ratio == 0.5


def test_valid_calls_beside_the_refused_ones_still_work():
    """The rows above fail for their bad value only: the same calls with good values give results."""
    x = torch.rand(3, 2, 3, generator=primekit.make_generator(3))
    result = run_early_stop(_Echo(), x, SoftmaxConfidence(0.8))
    assert torch.equal(result.exit_step, replay(x[:, :, :3], SoftmaxConfidence(0.8)).exit_step)
    recording = record_outputs(_Echo(), _Split(5), index=np.array([True, False, True, False, True]),
                               show_progress=False)
    assert recording.outputs.shape == (2, 3, 3)
    assert torch.equal(recording.outputs, _Split(5).frames[:, [0, 2, 4]])
    layer = SubnetLinear(GaussianWeights((4, 3)), keep_ratio=0.5)
    chip, _ = deploy(layer, MemristorConfig())
    keep = layer.keep_mask()   # kept weights mapped onto pairs and read back: the same weights
    assert torch.allclose(chip.effective_weight()[keep], layer.effective_weight()[keep], atol=1e-6)
