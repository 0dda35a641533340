"""Keyed random draws, weight sources applying their layer's map, and the chip's per-sample read.

The per-sample read is checked against an explicit Monte Carlo of independent cell reads (mean and
per-output variance, tolerances from the number of draws); zero noise gives exactly the noiseless map;
transposed convolutions and biases through every kind of source equal the plain torch op.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import primekit
from primekit.chip.deploy import ChipWeights, deploy
from primekit.chip.memristor import MemristorConfig, Pairs, weights_to_pairs
from primekit.snn import draws
from primekit.snn.subnet import SubnetConv2d, SubnetConvTranspose2d, SubnetLinear, keep_count
from primekit.snn.weight_sources import FrozenWeights, GaussianWeights, LayerMap, TrainableWeights

KAPPA = MemristorConfig().weight_scale


def test_a_samples_draws_depend_only_on_its_keys():
    together = draws.normal((3, 4), stream=9, keys=draws.DrawKeys(torch.tensor([5, 2, 11]), step=4, seed=1))
    alone = draws.normal((3, 4), stream=9, keys=draws.DrawKeys(torch.tensor([2]), step=4, seed=1))
    assert torch.equal(together[1], alone[0])
    with draws.keyed(torch.tensor([11, 5]), 4, 1):
        assert torch.equal(draws.normal((3, 4), 9), together[[2, 0]])
    assert draws.current_keys() is None
    others = [draws.normal((3, 4), 9, draws.DrawKeys(torch.tensor([2]), step, seed))[0]
              for step, seed in ((5, 1), (4, 2))] + [draws.normal((3, 4), 10, draws.DrawKeys(torch.tensor([2]), 4, 1))[0]]
    assert all(not torch.equal(o, alone[0]) for o in others)  # another step, seed or stream: another draw


def test_keyed_draws_are_standard_normal_and_uncorrelated_across_samples_and_steps():
    n = 4000
    a = draws.normal((50,), 3, draws.DrawKeys(torch.arange(n), 0)).double()
    b = draws.normal((50,), 3, draws.DrawKeys(torch.arange(n), 1)).double()
    tolerance = 5 / math.sqrt(a.numel())
    assert abs(a.mean().item()) < tolerance and abs(a.var().item() - 1) < 5 * math.sqrt(2 / a.numel())
    assert abs((a * b).mean().item()) < tolerance  # step 0 and step 1 of the same samples
    assert abs((a[:-1] * a[1:]).mean().item()) < tolerance  # neighbouring samples of one step
    u = draws.uniform((50,), 3, draws.DrawKeys(torch.arange(n), 0)).double()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean().item() - 0.5) < 5 * math.sqrt(1 / 12 / u.numel())


def test_draws_without_keys_and_bad_keys_raise():
    with pytest.raises(ValueError, match="no draw keys are set"):
        draws.normal((2,), 0)
    with pytest.raises(ValueError, match="samples must be split indices >= 0"):
        with draws.keyed(torch.tensor([-1]), 0):
            pass
    with pytest.raises(ValueError, match="step=-1 must be an integer"):
        with draws.keyed(torch.tensor([0]), -1):
            pass
    with pytest.raises(ValueError, match="stream=-3 must be an integer"):
        draws.normal((2,), -3, draws.DrawKeys(torch.tensor([0]), 0))


def _pairs(shape, seed):
    """Pairs well inside the device range (10-25 uS), so no read at 10 % noise clips."""
    generator = primekit.make_generator(seed)
    return Pairs(10 + 15 * torch.rand(shape, generator=generator), 10 + 15 * torch.rand(shape, generator=generator))


def _monte_carlo_cells(pairs, level, n, seed):
    """``n`` independent reads of every cell: ``[n, *shape]`` each for G+ and G-."""
    generator = primekit.make_generator(seed)
    plus = pairs.g_plus * (1 + level * torch.randn((n, *pairs.shape), generator=generator, dtype=torch.float64))
    minus = pairs.g_minus * (1 + level * torch.randn((n, *pairs.shape), generator=generator, dtype=torch.float64))
    assert plus.min() > 0 and plus.max() < 40 and minus.min() > 0 and minus.max() < 40  # nothing clips
    return plus, minus


def _check_moments(keyed, by_hand, mean, variance, n):
    """Both samples ``[n, outputs]`` have the expected per-output mean and variance (5-sigma tolerances)."""
    for sample in (keyed.double(), by_hand):
        assert ((sample.mean(0) - mean).abs() < 5 * (variance / n).sqrt()).all()
        assert ((sample.var(0) - variance).abs() < 5 * math.sqrt(2 / (n - 1)) * variance).all()


def test_per_sample_linear_read_matches_a_monte_carlo_of_cell_reads():
    level, n = 0.1, 20000
    pairs = _pairs((4, 6), seed=1)
    mask = torch.tensor([[1, 1, 0, 1, 1, 1]] * 4, dtype=torch.float32)  # software masking (not RESET)
    source = ChipWeights(pairs, MemristorConfig(read_noise=level), read_seed=5)
    x = torch.tensor([0.5, -1.0, 2.0, 1.5, 0.0, 3.0])
    with draws.keyed(torch.arange(n), step=2, seed=7):
        keyed = source.apply(x.expand(n, 6), LayerMap("linear"), mask)
    plus, minus = _monte_carlo_cells(pairs, level, n, seed=3)
    by_hand = torch.einsum("i,noi->no", x.double(), KAPPA * (plus - minus) * mask.double())
    mean = x.double() @ (source.read().double() * mask.double()).T
    variance = (x.double() ** 2) @ ((KAPPA * level) ** 2 * (pairs.g_plus.double() ** 2 + pairs.g_minus.double() ** 2)
                                    * mask.double()).T
    _check_moments(keyed, by_hand, mean, variance, n)


def test_per_sample_conv_read_matches_a_monte_carlo_of_cell_reads():
    level, n = 0.08, 8000
    pairs = _pairs((3, 2, 3, 3), seed=2)
    source = ChipWeights(pairs, MemristorConfig(read_noise=level), read_seed=6)
    layer_map = LayerMap("conv2d", stride=2, padding=1)
    x = torch.rand(1, 2, 5, 5, generator=primekit.make_generator(4)) * 2
    with draws.keyed(torch.arange(n), step=0):
        keyed = source.apply(x.expand(n, -1, -1, -1), layer_map).reshape(n, -1)
    plus, minus = _monte_carlo_cells(pairs, level, n, seed=8)
    columns = F.unfold(x.double(), 3, padding=1, stride=2)[0]  # [fan_in, positions]
    by_hand = torch.einsum("nof,fp->nop", (KAPPA * (plus - minus)).reshape(n, 3, -1), columns).reshape(n, -1)
    mean = F.conv2d(x.double(), source.read().double(), stride=2, padding=1).reshape(-1)
    power = (KAPPA * level) ** 2 * (pairs.g_plus.double() ** 2 + pairs.g_minus.double() ** 2)
    variance = F.conv2d(x.double() ** 2, power, stride=2, padding=1).reshape(-1)
    _check_moments(keyed, by_hand, mean, variance, n)


@pytest.mark.parametrize("read_mode", ["per-sample", "per-step"])
def test_zero_read_noise_gives_exactly_the_noiseless_outputs(read_mode):
    pairs = _pairs((4, 3, 3, 3), seed=3)
    source = ChipWeights(pairs, MemristorConfig(read_mode=read_mode), read_seed=1)
    x = torch.rand(5, 3, 6, 6)
    bias = torch.randn(4)
    with draws.keyed(torch.arange(5), 3):
        out = source.apply(x, LayerMap("conv2d", padding=1), bias=bias)
    assert torch.equal(out, F.conv2d(x, source.read(), bias, padding=1))
    assert torch.equal(source.apply(x, LayerMap("conv2d", padding=1), bias=bias), out)  # no keys needed


def _sources(weight):
    """One source of every kind holding ``weight`` (the chip: exactly representable pairs, no noise)."""
    pairs, clipped = weights_to_pairs(weight, MemristorConfig())
    assert clipped == 0
    return {"frozen": FrozenWeights(weight), "gaussian": GaussianWeights(weight.shape, seed=3),
            "trainable": TrainableWeights(weight), "chip": ChipWeights(pairs, MemristorConfig(read_noise=0.0)),
            "chip-per-step": ChipWeights(pairs, MemristorConfig(read_mode="per-step"))}


LAYERS = {
    "conv_transpose2d": (lambda s, b: SubnetConvTranspose2d(s, 0.5, stride=2, padding=1, output_padding=1, bias=b),
                         (3, 4, 3, 3), (2, 3, 5, 5),
                         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)),
    "conv2d": (lambda s, b: SubnetConv2d(s, 0.5, stride=2, padding=1, bias=b), (4, 3, 3, 3), (2, 3, 7, 7),
               lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
    "linear": (lambda s, b: SubnetLinear(s, 0.5, bias=b), (5, 6), (2, 6), lambda x, w, b: F.linear(x, w, b)),
}


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("with_bias", [False, True])
def test_every_source_applies_every_map_as_the_plain_torch_op(kind, with_bias):
    make, shape, input_shape, torch_op = LAYERS[kind]
    weight = 0.05 * torch.randn(shape, generator=primekit.make_generator(1))
    x = torch.rand(input_shape, generator=primekit.make_generator(2))
    for name, source in _sources(weight).items():
        bias = torch.linspace(-1, 1, shape[1 if kind == "conv_transpose2d" else 0]) if with_bias else False
        layer = make(source, bias)
        expected = torch_op(x, layer.effective_weight(), layer.bias)
        assert torch.equal(layer(x), expected), name
        if with_bias:  # d(sum of outputs) / d(bias of channel c) = the number of outputs of channel c
            out = layer(x)
            out.sum().backward()
            assert torch.equal(layer.bias.grad, torch.full_like(layer.bias, out.numel() // out.shape[1])), name


def test_a_transposed_conv_with_bias_deploys_and_reads_noise():
    layer = SubnetConvTranspose2d(GaussianWeights((3, 2, 3, 3), seed=4), 0.5, stride=2, padding=1,
                                  output_padding=1, bias=torch.tensor([0.5, -0.5]))
    x = torch.rand(4, 3, 4, 4)
    quiet, report = deploy(layer, MemristorConfig(g_reset_spread_us=0.0, g_reset_us=1.0), seed=0)
    assert report.reset_pairs[""] == 54 - keep_count(54, 0.5) and torch.equal(quiet.bias, layer.bias)
    assert torch.allclose(quiet(x), layer(x), atol=1e-5)  # RESET pairs hold exactly zero here
    noisy, _ = deploy(layer, MemristorConfig(read_noise=0.1), seed=0)
    with draws.keyed(torch.arange(4), 0):
        assert (noisy(x) - layer(x)).abs().max() > 1e-3


def test_layer_maps_check_their_arguments():
    with pytest.raises(ValueError, match="kind='conv3d' must be one of"):
        LayerMap("conv3d")
    with pytest.raises(ValueError, match="stride=0 must be >= 1"):
        LayerMap("conv2d", stride=0)
    with pytest.raises(ValueError, match="output_padding=1 is only allowed for kind='conv_transpose2d'"):
        LayerMap("conv2d", output_padding=1)
    with pytest.raises(ValueError, match=r"output_padding=2 must be smaller than the stride \(2, 2\)"):
        LayerMap("conv_transpose2d", stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"a conv_transpose2d weight is \[in, out, k, k\]"):
        SubnetConvTranspose2d(GaussianWeights((3, 3)))
    with pytest.raises(ValueError, match=r"bias must be True, False or a tensor of shape \(2,\)"):
        SubnetLinear(GaussianWeights((2, 3)), bias=torch.zeros(3))
    with pytest.raises(ValueError, match="read_mode='both' must be one of"):
        MemristorConfig(read_mode="both")
    source = ChipWeights(_pairs((2, 3), 0), MemristorConfig(read_noise=0.1))
    with pytest.raises(ValueError, match="the draw keys name 3 samples but the layer's input has a batch of 2"):
        with draws.keyed(torch.arange(3), 0):
            source.apply(torch.ones(2, 3), LayerMap("linear"))


def test_the_normal_table_has_unit_variance_and_gaussian_quantiles():
    table = torch.from_numpy(draws.TABLE)
    assert len(table) == 2**16 and table.mean().abs() < 1e-12 and (table.pow(2).mean() - 1).abs() < 1e-12
    assert torch.equal(table, -table.flip(0))  # symmetric
    # its k-th value is the Gaussian quantile of (k + 0.5) / 2**16, up to the variance rescale (< 0.1 %)
    assert abs(table[49152].item() / torch.special.ndtri(torch.tensor(49152.5 / 65536, dtype=torch.float64)) - 1) < 1e-3


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_add_noise_kernel_equals_the_numpy_specification(dtype):
    keys = draws.DrawKeys(torch.tensor([3, 0, 17]), step=5, seed=2)
    mean = torch.randn(3, 7, 5, generator=primekit.make_generator(1), dtype=dtype)
    variance = torch.rand(3, 7, 5, generator=primekit.make_generator(2), dtype=dtype)
    variance[0, 0, 0] = -1e-9  # rounding below zero counts as zero
    got = draws.add_noise(mean, variance, stream=4, keys=keys)
    z = torch.from_numpy(draws.table_normal_reference(35, draws._sample_keys(keys, 4))).reshape(3, 7, 5)
    expected = mean.double() + variance.double().clamp_min(0).sqrt() * z
    assert torch.allclose(got.double(), expected, rtol=0, atol=1e-6 if dtype == torch.float32 else 1e-14)
    assert torch.equal(draws.table_normal((7, 5), 4, keys, dtype=torch.float64), z)
    # keyed: a sample alone gets the values it gets in any batch, in place or not
    alone = draws.add_noise(mean[1:2].clone(), variance[1:2], 4, draws.DrawKeys(torch.tensor([0]), 5, 2),
                            out=None)
    assert torch.equal(alone, got[1:2])
    buffer = mean.clone()
    assert draws.add_noise(buffer, variance, 4, keys, out=buffer) is buffer and torch.equal(buffer, got)


def test_table_normals_are_independent_standard_normals():
    n = 20000
    z = draws.table_normal((n,), 1, draws.DrawKeys(torch.arange(2), step=0)).double()
    for row in z:
        assert abs(row.mean().item()) < 5 / math.sqrt(n) and abs(row.var().item() - 1) < 5 * math.sqrt(2 / n)
    assert abs(torch.corrcoef(z)[0, 1].item()) < 5 / math.sqrt(n)
    assert abs(torch.corrcoef(torch.stack([z[0, :-1], z[0, 1:]]))[0, 1].item()) < 5 / math.sqrt(n)  # neighbours
    other_step = draws.table_normal((n,), 1, draws.DrawKeys(torch.arange(1), step=1)).double()
    assert abs(torch.corrcoef(torch.stack([z[0], other_step[0]]))[0, 1].item()) < 5 / math.sqrt(n)


def test_add_noise_refuses_mismatched_input():
    keys = draws.DrawKeys(torch.arange(2), 0)
    with pytest.raises(ValueError, match="must have the same shape"):
        draws.add_noise(torch.zeros(2, 3), torch.zeros(2, 4), 0, keys)
    with pytest.raises(ValueError, match=r"one row per keyed sample \(2\)"):
        draws.add_noise(torch.zeros(3, 3), torch.zeros(3, 3), 0, keys)
    with pytest.raises(ValueError, match="no draw keys are set"):
        draws.add_noise(torch.zeros(2, 3), torch.zeros(2, 3), 0)
