"""How one layer's operations are counted (the per-layer arithmetic behind :mod:`primekit.energy.counts`).

:class:`CrossbarMapping` lays a layer onto memristor arrays, :class:`LayerRole` says what follows the layer
inside the model (neurons, normalisation, pooling), and :class:`LayerCounter` turns the layer's input at one
step into per-sample counts of every kind in :data:`primekit.energy.count_records.KINDS` (their meaning is
tabulated in :mod:`primekit.energy.counts`).

A transposed convolution (the spiking VAE's decoder) is counted as the convolution it equals on a crossbar:
each output position is one array read whose rows are the ``in x k x k`` (input channel, kernel tap) pairs
that can reach it, its columns the output channels' pairs; an input element drives the rows of every output
position it reaches. ``dense_macs`` of a transposed convolution are the products a direct (scatter) dense
implementation executes: every input element times every weight of its input channel, outputs cropped away
by the padding excluded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from primekit.checks import is_count
from primekit.energy.count_records import KINDS
from primekit.snn.subnet import SubnetLayer

#: Cells per weight: a differential pair, G+ and G- (PRIME stores every weight this way).
CELLS_PER_WEIGHT = 2
NEURON_KINDS = ("lif", "integrator", "none")


@dataclass(frozen=True)
class CrossbarMapping:
    """How layers are laid out on memristor arrays.

    Attributes:
        rows_per_array: rows of one array (PRIME's macro: 512 x 512 cells); a larger fan-in is split into
            row tiles, each converted separately.
        columns_per_array: columns of one array; every output uses two (a differential pair).
    """

    rows_per_array: int = 512
    columns_per_array: int = 512

    def __post_init__(self) -> None:
        for name in ("rows_per_array", "columns_per_array"):
            value = getattr(self, name)
            if not (is_count(value) and value >= 1):
                raise ValueError(f"{name}={value!r} must be a positive integer")
        if self.columns_per_array < CELLS_PER_WEIGHT:
            raise ValueError(f"columns_per_array={self.columns_per_array!r} must be >= {CELLS_PER_WEIGHT} "
                             "(one differential pair)")

    def row_tiles(self, fan_in: int) -> int:
        """Arrays stacked to hold ``fan_in`` rows."""
        return math.ceil(fan_in / self.rows_per_array)

    def column_tiles(self, out_channels: int) -> int:
        """Arrays side by side to hold ``out_channels`` pairs (two columns each)."""
        return math.ceil(CELLS_PER_WEIGHT * out_channels / self.columns_per_array)


@dataclass(frozen=True)
class LayerRole:
    """What follows a hooked layer inside the model (its neurons and pooling are not modules).

    Attributes:
        neuron: ``"lif"`` (a LIF population updates every output element each step), ``"integrator"``
            (the non-spiking output integrator) or ``"none"``.
        pool: side of the average-pooling window after the neurons (1: no pooling).
        norm: a normalisation follows the layer (the VAE's tdBN: at inference a per-channel scale and shift,
            one multiply-add per output element).
    """

    neuron: str = "lif"
    pool: int = 1
    norm: bool = False

    def __post_init__(self) -> None:
        if self.neuron not in NEURON_KINDS:
            raise ValueError(f"neuron={self.neuron!r} must be one of {NEURON_KINDS}")
        if not (is_count(self.pool) and self.pool >= 1):
            raise ValueError(f"pool={self.pool!r} must be a positive integer")
        if not isinstance(self.norm, bool):
            raise ValueError(f"norm={self.norm!r} must be True or False")


class LayerCounter:
    """Per-sample counts of one subnet layer from its input ``x``.

    Most counts are sums over all outputs of the layer's map applied to an indicator of the input (non-zero,
    equal to 1, or ``|x|``) with a 0/1 kernel. Such a sum is linear in the input, ``sum_out (K * u) =
    sum_in u * R``, where the *reach* map ``R`` (the adjoint of the map applied to all-ones outputs) says how
    many kept weights, pruned weights or array rows each input element meets in one step. ``R`` depends only on
    the layer and the input shape, so it is computed once; a count is then a dot product per sample. Which
    array reads have a driven row needs the per-output view: a max-pool of the input's non-zero indicator (or
    a convolution with one kernel per row tile).
    """

    def __init__(self, layer: SubnetLayer, role: LayerRole, mapping: CrossbarMapping):
        self.layer, self.role, self.mapping = layer, role, mapping
        kind = layer.layer_map.kind
        self.conv, self.transposed = kind in ("conv2d", "conv_transpose2d"), kind == "conv_transpose2d"
        self.shape = tuple(layer.weight_source.shape)
        out_dim = 1 if self.transposed else 0   # torch's layouts: [out, in, ...] and [in, out, k, k]
        self.out_channels = self.shape[out_dim]
        self.fan_in = math.prod(self.shape) // self.out_channels
        keep = layer.keep_mask()
        kept = torch.ones(self.shape) if keep is None else keep.float()   # fixed while counting (not training)
        # per input row of the unrolled matrix: kept pairs, pruned pairs, and the row itself (kernels of one output)
        ones = list(self.shape)
        ones[out_dim] = 1
        self.row_kernels = [kept.sum(dim=out_dim, keepdim=True), (1.0 - kept).sum(dim=out_dim, keepdim=True),
                            torch.ones(ones)]
        self.row_tiles = mapping.row_tiles(self.fan_in)
        self.column_tiles = mapping.column_tiles(self.out_channels)
        self._reach: dict[tuple, torch.Tensor] = {}

    def _apply(self, x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
        """The layer's linear map with ``kernel`` as its weights."""
        return self.layer.layer_map(x, kernel)

    def reach(self, input_shape: tuple) -> torch.Tensor:
        """``[input elements, 3]`` (float64): kept weights, pruned weights and array rows each input meets."""
        if input_shape not in self._reach:
            maps = []
            for kernel in self.row_kernels:
                probe = torch.zeros((1, *input_shape), requires_grad=True)
                with torch.enable_grad():
                    self._apply(probe, kernel).sum().backward()
                maps.append(probe.grad.reshape(-1))
            self._reach[input_shape] = torch.stack(maps, dim=1).double()
        return self._reach[input_shape]

    def nonempty_reads(self, nonzero: torch.Tensor) -> torch.Tensor:
        """Per sample: (output position, row tile) reads with at least one driven row."""
        batch = nonzero.shape[0]
        if not self.conv:
            padded = F.pad(nonzero, (0, self.row_tiles * self.mapping.rows_per_array - self.fan_in))
            return padded.reshape(batch, self.row_tiles, -1).amax(dim=2).sum(dim=1, dtype=torch.float64)
        kernel_size, (padding, _), (stride, _) = self.shape[-1], self.layer.layer_map.padding, self.layer.layer_map.stride
        if self.transposed:  # driven rows per output position: the map with an all-ones kernel per row tile
            if self.row_tiles != 1:
                raise ValueError(f"a transposed convolution with fan-in {self.fan_in} > rows_per_array is not supported")
            active = self._apply(nonzero, self.row_kernels[2])
        elif self.row_tiles == 1 and padding <= kernel_size // 2:   # any non-zero input in the receptive field
            active = F.max_pool2d(nonzero.amax(dim=1, keepdim=True), kernel_size, stride, padding)
        else:  # one 0/1 kernel per row tile, rows in im2col order (channel, kernel row, kernel column)
            rows = torch.arange(self.fan_in)
            tiles = torch.stack([((rows // self.mapping.rows_per_array) == tile).float()
                                 for tile in range(self.row_tiles)]).reshape(self.row_tiles, *self.shape[1:])
            active = self._apply(nonzero, tiles)
        return (active > 0).reshape(batch, -1).sum(dim=1, dtype=torch.float64)

    def __call__(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        x = x.detach().float()
        batch = x.shape[0]
        reach = self.reach(tuple(x.shape[1:]))
        nonzero = (x != 0).float()
        flat = x.reshape(batch, -1).double()
        by_nonzero = nonzero.reshape(batch, -1).double() @ reach             # kept ops, pruned ops, rows
        by_magnitude = flat.abs() @ reach[:, :2]                              # pulses on kept, pruned pairs
        spike = (flat == 1).double() @ reach[:, 0]
        synaptic = by_nonzero[:, 0]
        positions = output[0, 0].numel() if self.conv else 1                 # array reads per step and tile
        out_elements = output[0].numel()
        pooled = _pooled(output, self.role.pool)
        neurons = 0 if self.role.neuron == "none" else out_elements
        dense = (reach[:, 0].sum() + reach[:, 1].sum()).item() if self.transposed else out_elements * self.fan_in
        counts = {
            "dense_macs": dense,
            "synaptic_ops": synaptic,
            "spike_ops": spike,
            "graded_ops": synaptic - spike,
            "kept_pulses": by_magnitude[:, 0],
            "pruned_pulses": by_magnitude[:, 1],
            "row_activations": by_nonzero[:, 2] * self.column_tiles,
            "crossbar_reads": positions * self.row_tiles * self.column_tiles,
            "conversions": positions * self.out_channels * self.row_tiles,
            "conversions_nonempty": self.nonempty_reads(nonzero) * self.out_channels,
            "partial_sum_adds": positions * self.out_channels * (self.row_tiles - 1),
            "neuron_updates": out_elements if self.role.neuron == "lif" else 0,
            "integrator_updates": out_elements if self.role.neuron == "integrator" else 0,
            "pool_outputs": pooled,
            "pool_adds": pooled * (self.role.pool ** 2 - 1),
            "weight_reads": synaptic,
            "state_accesses": 2 * neurons,
            "bias_adds": out_elements if self.layer.bias is not None else 0,
            "norm_ops": out_elements if self.role.norm else 0,
        }
        return torch.stack([_per_sample(counts[kind], batch) for kind in KINDS], dim=1)   # [B, kinds]


def _per_sample(value, batch: int) -> torch.Tensor:
    """A per-sample count ``[B]`` (float64) from a tensor, or from a number that is the same for every sample."""
    if isinstance(value, torch.Tensor):
        return value
    return torch.full((batch,), float(value), dtype=torch.float64)


def _pooled(output: torch.Tensor, pool: int) -> int:
    """Pooled values per sample after ``pool`` x ``pool`` pooling (no pooling: 0)."""
    if pool == 1:
        return 0
    if output.dim() != 4:
        raise ValueError(f"pool={pool} needs a conv output [B, C, H, W]; got shape {tuple(output.shape)}")
    return output.shape[1] * (output.shape[2] // pool) * (output.shape[3] // pool)


