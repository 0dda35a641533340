"""Noise sweeps on simulated chips: zero noise is the noiseless network, noise of ten times the weight
spread destroys a classifier as predicted, sweeps are reproducible, margins and per-layer noise match
values computed by hand. Toy linear classifiers on synthetic spikes keep every test to about a second."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from primekit.chip.deploy import ChipWeights, deploy, deploy_range_filling
from primekit.chip.memristor import MemristorConfig, equivalent_weight_noise, form
from primekit.experiments.noise_anatomy import (
    flip_rate_by_ratio,
    layer_noise_anatomy,
    sweep_margins,
    weight_noise_factor,
)
from primekit.experiments.noise_sweep import NoiseSweepConfig, noise_sweep
from primekit.inference.evaluate import record_outputs
from primekit.inference.sweeps import threshold_sweep
from primekit.snn.subnet import SubnetLinear
from primekit.snn.timeloop import StepModule
from primekit.snn.weight_sources import FrozenWeights

CLASSES = 10


class ToyClassifier(StepModule):
    """One subnet linear layer (the production layer) whose current is the output at every step."""

    def __init__(self, weight: torch.Tensor, keep_ratio: float = 1.0):
        super().__init__()
        self.layer = SubnetLinear(FrozenWeights(weight), keep_ratio)
        if keep_ratio < 1:  # keep the largest weights (what trained scores tend to do)
            with torch.no_grad():
                self.layer.scores.copy_(weight.abs())

    def init_state(self, batch_size):
        return None

    def step(self, x_t, state):
        return self.layer(x_t), state


@dataclass
class ToySplit:
    """A FrameSplit stand-in: frames ``[N, T, inputs]`` and labels ``[N]``."""

    frames: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.frames)

    def time_major(self, index=slice(None)):
        return torch.from_numpy(self.frames[index].astype(np.float32)).transpose(0, 1).contiguous()


def spike_task(n_per_class=40, steps=5, per_class=3, seed=0):
    """Class c raises the spike probability of its own inputs; a prototype readout classifies it."""
    rng = np.random.default_rng(seed)
    n_in = CLASSES * per_class
    labels = np.repeat(np.arange(CLASSES), n_per_class)
    rates = np.full((len(labels), n_in), 0.15)
    for c in range(CLASSES):
        rates[labels == c, c * per_class:(c + 1) * per_class] = 0.5
    frames = (rng.random((len(labels), steps, n_in)) < rates[:, None, :]).astype(np.uint8)
    prototype = torch.zeros(CLASSES, n_in)
    for c in range(CLASSES):
        prototype[c, c * per_class:(c + 1) * per_class] = 1.0
    weight = 0.05 * (prototype - prototype.mean()) + 0.01 * torch.randn(CLASSES, n_in, generator=torch.Generator().manual_seed(seed))
    return ToySplit(frames, labels), weight


def one_hot_task(n_per_class):
    """One step; sample of class c is the unit vector e_c: the output is column c of the weights."""
    labels = np.repeat(np.arange(CLASSES), n_per_class)
    frames = np.eye(CLASSES, dtype=np.uint8)[labels][:, None, :]
    return ToySplit(frames, labels)


def accuracy_by_hand(model, split):
    outputs = model.run(split.time_major()).outputs.mean(dim=0)
    return (outputs.argmax(dim=1).numpy() == split.labels).mean()


@pytest.fixture(scope="module")
def task():
    return spike_task()


SMALL = NoiseSweepConfig(levels=(0.0, 0.05, 0.2), chips=2, thresholds=(0.5, 0.8), batch_size=50)


@pytest.fixture(scope="module")
def small_sweep(task):
    split, weight = task
    models = {"dense": ToyClassifier(weight), "pruned": ToyClassifier(weight, keep_ratio=0.5)}
    return noise_sweep(models, split, SMALL, show_progress=False), models


def test_zero_noise_reproduces_the_noiseless_accuracy_exactly(task):
    split, weight = task
    dense, pruned = ToyClassifier(weight), ToyClassifier(weight, keep_ratio=0.5)
    # without a RESET spread a pruned pair holds exactly zero, so both chips compute what software does
    device = MemristorConfig(g_reset_spread_us=0.0)
    sweep = noise_sweep({"dense": dense, "pruned": pruned}, split,
                        NoiseSweepConfig(levels=(0.0, 0.1), chips=3, memristor=device, batch_size=50),
                        show_progress=False)
    for m, model in enumerate((dense, pruned)):
        software = accuracy_by_hand(model, split)
        assert 0.5 < software < 1.0  # a real but imperfect classifier: equality means something
        assert np.all(sweep.accuracy[m, :, 0, :] == software)  # every chip, both kinds
        assert np.all(sweep.accuracy[m, :, 1, :] != software)  # noise does change it
    # with the default device the noiseless chip equals a chip deployed and evaluated by hand
    sweep = noise_sweep({"pruned": pruned}, split, NoiseSweepConfig(levels=(0.0,), chips=2, batch_size=50),
                        show_progress=False)
    for chip in range(2):
        by_hand, _ = deploy(pruned, MemristorConfig(), sweep.config.chip_seeds(chip)[0])
        assert np.all(sweep.accuracy[0, :, 0, chip] == accuracy_by_hand(by_hand, split))


def _accuracy_of_shifted_max(shift, points=20001):
    """P(Z_0 + shift > max(Z_1..Z_9)) for independent standard normals (10-class chance with a head start)."""
    z = np.linspace(-10, 10, points)
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)((z + shift) / math.sqrt(2)))
    f = pdf * cdf ** (CLASSES - 1)
    return float(np.sum((f[1:] + f[:-1]) / 2 * np.diff(z)))  # the trapezoid rule (np.trapezoid needs NumPy 2)


@pytest.mark.parametrize("kind", ["read", "programming"])
def test_noise_of_ten_times_the_weight_spread_leaves_near_chance_accuracy(kind):
    # one-hot inputs and one step: the output of class j for a sample of class c is the weight w_jc
    a = 0.01
    model = ToyClassifier(a * torch.eye(CLASSES))
    split = one_hot_task(n_per_class=100 if kind == "read" else 1)
    factor = layer_noise_anatomy(model, split)[0].weight_noise      # weight noise per unit cell noise
    level = 10.0 / factor                                            # weight noise = 10 x weight spread
    # read noise: batches of one sample, so every sample sees its own read; programming: many chips
    # (each seeing every class once: 1000 independent trials either way)
    config = NoiseSweepConfig(levels=(0.0, level), kinds=(kind,), chips=1 if kind == "read" else 100,
                              thresholds=(), batch_size=1 if kind == "read" else CLASSES)
    sweep = noise_sweep({"identity": model}, split, config, show_progress=False)
    noiseless, noisy = sweep.stats("identity", kind)[0]
    assert noiseless == 1.0
    # each output gets noise of std 10 x std(w) = 10 x a sqrt(0.09 * 100/99); the right class leads by a
    shift = 1.0 / (10 * math.sqrt(0.09 * 100 / 99))
    expected = _accuracy_of_shifted_max(shift)
    trials = len(split) * config.chips
    assert noisy < 0.2
    assert abs(noisy - expected) < 4 * math.sqrt(expected * (1 - expected) / trials)


def test_a_sweep_with_a_fixed_seed_is_reproducible(task, small_sweep):
    split, _ = task
    sweep, models = small_sweep
    again = noise_sweep(models, split, SMALL, show_progress=False)
    for name in ("accuracy", "early_accuracy", "mean_exit", "logits"):
        assert np.array_equal(getattr(sweep, name), getattr(again, name))
    other = noise_sweep(models, split, NoiseSweepConfig(levels=SMALL.levels, chips=2, thresholds=SMALL.thresholds,
                                                        batch_size=50, seed=1), show_progress=False)
    assert not np.array_equal(sweep.logits[:, :, 1:], other.logits[:, :, 1:])


def test_level_zero_is_one_run_shared_by_both_kinds(small_sweep):
    sweep, _ = small_sweep
    assert np.array_equal(sweep.logits[:, 0, 0], sweep.logits[:, 1, 0])
    assert not np.isnan(sweep.accuracy).any() and not np.isnan(sweep.mean_exit).any()
    assert sweep.n_samples == 400 and sweep.timesteps == 5


def test_programming_noise_scales_one_draw_per_chip():
    # common random numbers: chip c's cell deviations at level 2s are twice those at level s
    model = ToyClassifier(0.02 * torch.randn(CLASSES, 30, generator=torch.Generator().manual_seed(1)))
    config = NoiseSweepConfig(levels=(0.0, 0.02, 0.04), kinds=("programming",))
    seed = config.chip_seeds(1)[0]
    g = [deploy(model, config.point_memristor("programming", s), seed)[0].layer.weight_source.g_plus
         for s in config.levels]
    assert torch.allclose(g[2] - g[0], 2 * (g[1] - g[0]), atol=1e-5)
    assert config.chip_seeds(0) != config.chip_seeds(1)
    assert config.point_memristor("read", 0.1).programming_noise == 0.0


def test_early_stop_rows_equal_a_replay_by_hand(task, small_sweep):
    split, _ = task
    sweep, models = small_sweep
    m, k, i, chip = 1, 1, 2, 1  # pruned, read noise, 20 %, second chip
    programming_seed, read_seed = SMALL.chip_seeds(chip)
    device = SMALL.point_memristor(SMALL.kinds[k], SMALL.levels[i])
    chip_model, _ = deploy(models["pruned"], device, programming_seed)
    recording = record_outputs(chip_model, split, batch_size=50, read_seed=read_seed, show_progress=False)
    rows = threshold_sweep(recording, SMALL.thresholds)
    assert [r.accuracy for r in rows] == list(sweep.early_accuracy[m, k, i, chip])
    assert [r.mean_exit for r in rows] == list(sweep.mean_exit[m, k, i, chip])
    assert np.allclose(sweep.logits[m, k, i, chip], recording.outputs.mean(0).numpy())


def test_stats_drop_and_per_chip_by_hand(small_sweep):
    sweep, _ = small_sweep
    values = sweep.accuracy[1, 0]  # pruned, programming: [levels, chips]
    mean, spread = sweep.stats("pruned", "programming")
    assert np.allclose(mean, values.mean(axis=1))
    assert np.allclose(spread, [np.std(row, ddof=1) for row in values])
    assert sweep.drop("pruned", "programming", 0.2) == pytest.approx(mean[0] - mean[2])
    assert sweep.at("pruned", "programming", 0.05) == (pytest.approx(mean[1]), pytest.approx(spread[1]))
    exits = sweep.per_chip("dense", "read", 0.8, "mean_exit")
    assert np.array_equal(exits, sweep.mean_exit[0, 1, :, :, 1])
    assert np.all(sweep.per_chip("dense", "read", None, "mean_exit") == 5)
    assert np.all((exits >= 1) & (exits <= 5))


def test_margins_by_hand(small_sweep):
    sweep, _ = small_sweep
    margins = sweep_margins(sweep, "dense", "read", 0.2)
    quiet, noisy = sweep.logits[0, 1, 0, 1], sweep.logits[0, 1, 2, 1]  # chip 1
    n = sweep.n_samples
    sample = 7
    top = np.sort(quiet[sample])[::-1]
    assert margins.margin[n + sample] == pytest.approx(top[0] - top[1])
    assert margins.noise[n + sample] == pytest.approx(np.sqrt(((noisy[sample] - quiet[sample]) ** 2).mean()), rel=1e-6)
    assert margins.flipped[n + sample] == (noisy[sample].argmax() != quiet[sample].argmax())
    assert margins.correct[n + sample] == (quiet[sample].argmax() == sweep.labels[sample])
    # the flips in the margins are the accuracy changes of the sweep's runs
    assert margins.flipped.reshape(2, n).any(axis=1).all()
    # a sample can only flip when its margin is within reach of the noise: flip rate falls with the ratio
    rate, counts = flip_rate_by_ratio(margins, [0, 0.5, 1, np.inf])
    assert counts.sum() == 2 * n and rate[0] > rate[2]
    zero = sweep_margins(sweep, "dense", "read", 0.0)
    assert np.all(zero.noise == 0) and not zero.flipped.any()


def test_layer_anatomy_by_hand_and_by_monte_carlo(task):
    split, weight = task
    model = ToyClassifier(weight, keep_ratio=0.5)
    row, = layer_noise_anatomy(model, split, seed=3)
    chip, _ = deploy(model, MemristorConfig(), 3)
    pairs = chip.layer.weight_source.pairs
    kappa = MemristorConfig().weight_scale
    assert row.layer == "layer" and row.pairs == weight.numel()
    assert row.reset_fraction == pytest.approx(0.5, abs=1 / weight.numel())
    kept = ~pairs.reset
    assert row.kept_weight_std_us == pytest.approx((pairs.g_plus - pairs.g_minus)[kept].std().item(), rel=1e-6)
    w = pairs.weights(MemristorConfig())
    noise_rms = kappa * (pairs.g_plus**2 + pairs.g_minus**2).mean().sqrt()
    assert row.weight_noise == pytest.approx((noise_rms / w.std()).item(), rel=1e-5)
    # current noise by hand: variance kappa^2 sum_i x_i^2 (G+^2 + G-^2)
    x = split.time_major().reshape(-1, weight.shape[1]).double()
    power = kappa**2 * (pairs.g_plus.double() ** 2 + pairs.g_minus.double() ** 2)
    by_hand = math.sqrt((x.pow(2) @ power.T).mean().item() / (x @ w.double().T).pow(2).mean().item())
    assert row.current_noise == pytest.approx(by_hand, rel=1e-6)
    # and by Monte Carlo: a read-noise chip's relative current error is level x current_noise
    level = 0.03
    quiet = record_outputs(chip, split, batch_size=1, show_progress=False).outputs
    noisy_chip, _ = deploy(model, MemristorConfig(read_noise=level), 3)
    noisy = record_outputs(noisy_chip, split, batch_size=1, read_seed=5, show_progress=False).outputs
    measured = ((noisy - quiet).pow(2).mean() / quiet.pow(2).mean()).sqrt().item()
    # 400 x 5 independent reads of 10 outputs: the RMS is estimated to about 1 %
    assert measured == pytest.approx(level * row.current_noise, rel=0.05)


def test_range_filling_deployment_keeps_the_weights_and_fills_the_range(task):
    split, weight = task
    x = split.time_major()
    quiet = MemristorConfig(g_reset_spread_us=0.0)
    for keep_ratio in (1.0, 0.5):
        model = ToyClassifier(weight, keep_ratio)
        chip, scales = deploy_range_filling(model, quiet, seed=2)
        kept = model.layer.effective_weight().detach()
        kept = kept[model.layer.keep_mask()] if keep_ratio < 1 else kept
        assert scales == {"layer": pytest.approx(kept.abs().max().item() / (quiet.g_max_us - quiet.g_min_us))}
        assert torch.allclose(chip.run(x).outputs, model.run(x).outputs, atol=1e-6)   # the same network
        pairs = chip.layer.weight_source.pairs
        largest = (pairs.g_plus - pairs.g_minus).abs().argmax()
        ends = sorted([pairs.g_plus.flatten()[largest].item(), pairs.g_minus.flatten()[largest].item()])
        assert ends == [pytest.approx(quiet.g_min_us, abs=1e-5), pytest.approx(quiet.g_max_us)]
        # small weights now use the range: less weight noise per unit of cell noise than with deploy
        shared, _ = deploy(model, quiet, seed=2)
        assert equivalent_weight_noise(pairs, 1.0, chip.layer.weight_source.config) < \
            0.5 * equivalent_weight_noise(shared.layer.weight_source.pairs, 1.0, quiet)
    with pytest.raises(ValueError, match="fill=0"):
        deploy_range_filling(model, quiet, fill=0)


def test_range_filling_draws_the_same_programming_noise_as_deploy(task):
    # the same chip seed gives every cell the same relative deviation eps, whatever its conductance
    _, weight = task
    model = ToyClassifier(weight)
    noisy = MemristorConfig(programming_noise=0.05)
    deviations, inside = [], torch.ones(weight.shape, dtype=torch.bool)
    for deploy_fn in (deploy, deploy_range_filling):
        nominal = deploy_fn(model, MemristorConfig(), 4)[0].layer.weight_source.g_plus
        programmed = deploy_fn(model, noisy, 4)[0].layer.weight_source.g_plus
        inside &= (nominal > 0.1) & (programmed < noisy.g_max_us)      # not clipped
        deviations.append(programmed / nominal - 1)
    assert inside.sum() > 200
    assert torch.allclose(deviations[0][inside], deviations[1][inside], atol=1e-5)
    assert deviations[0][inside].std() == pytest.approx(0.05, rel=0.15)


def test_range_filling_keeps_formed_chips_as_they_are():
    config = MemristorConfig()
    pairs = form((CLASSES, 12), config, seed=5)
    model = ToyClassifier(torch.zeros(CLASSES, 12))
    model.layer.weight_source = ChipWeights(pairs, config.with_noise(programming=0.0, read=0.0))
    chip, scales = deploy_range_filling(model, MemristorConfig(weight_scale=0.003), seed=1)
    assert scales == {"layer": config.weight_scale}
    assert torch.equal(chip.layer.weight_source.g_plus, pairs.g_plus)


def test_weight_noise_factor_follows_the_formula():
    config = MemristorConfig()
    s = config.g_formed_spread_us
    assert weight_noise_factor(config) == pytest.approx(math.hypot(config.g_mean_us, s) / s, rel=0.02)
    assert weight_noise_factor(config.with_noise(read=0.3)) == weight_noise_factor(config)


@pytest.mark.parametrize("changes, match", [
    (dict(levels=(0.1, 0.05)), "strictly increasing"),
    (dict(levels=(-0.1,)), "levels contains -0.1"),
    (dict(levels=()), "non-empty"),
    (dict(kinds=("thermal",)), "kinds"),
    (dict(chips=0), "chips=0"),
    (dict(thresholds=(1.0,)), r"thresholds=\(1.0,\)"),
    (dict(batch_size=0), "batch_size=0"),
    (dict(seed=-1), "seed=-1"),
])
def test_bad_sweep_configs_raise(changes, match):
    with pytest.raises(ValueError, match=match):
        NoiseSweepConfig(**changes)


def test_bad_requests_raise(task, small_sweep):
    split, _ = task
    sweep, _ = small_sweep
    with pytest.raises(ValueError, match="non-empty mapping"):
        noise_sweep({}, split)
    with pytest.raises(ValueError, match="level=0.1 is not in this sweep"):
        sweep.at("dense", "read", 0.1)
    with pytest.raises(ValueError, match="method='weight-tuning' is not in this sweep"):
        sweep.stats("weight-tuning", "read")
    with pytest.raises(ValueError, match="threshold=0.6 is not in this sweep"):
        sweep.stats("dense", "read", 0.6)
    with pytest.raises(ValueError, match="quantity='loss'"):
        sweep.stats("dense", "read", 0.8, "loss")
    with pytest.raises(ValueError, match="kind='thermal'"):
        SMALL.point_memristor("thermal", 0.1)
    with pytest.raises(ValueError, match="edges"):
        flip_rate_by_ratio(sweep_margins(sweep, "dense", "read", 0.2), [1.0])
