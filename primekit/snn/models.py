"""The PRIME N-MNIST network and a loader for the authors' released checkpoint.

Architecture (the authors' ``Classification`` code), for input frames ``[B, 2, 34, 34]`` per step:

========================  ======================================  =================================
layer                     spec                                    output
========================  ======================================  =================================
subnet conv ``conv0``     2 -> 12, kernel 5, stride 1, padding 1  12 x 32 x 32, LIF (threshold 0.2)
average pool              2 x 2                                   12 x 16 x 16
subnet conv ``conv1``     12 -> 64, kernel 5, stride 1, no pad    64 x 12 x 12, LIF (threshold 0.2)
average pool, flatten     2 x 2                                   2304
subnet linear ``linear``  2304 -> 10                              non-spiking integrator
========================  ======================================  =================================

LIF neurons: decay 0.8, LeakyReLU(0.1), hard reset, rectangle surrogate; the logits are the mean over
time of the output integrator's membrane. No layer has a bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, NamedTuple

import torch
import torch.nn.functional as F

from primekit.checks import check_instance
from primekit.reference import reference_path
from primekit.seeding import derive_seed
from primekit.snn.fused import fusable, lif_pool_sequence, lif_pool_step
from primekit.snn.neurons import (
    PRIME_LIF,
    IntegratorState,
    LIFParameters,
    LIFState,
    integrator_step,
    lif_step,
)
from primekit.snn.subnet import SubnetConv2d, SubnetLinear
from primekit.snn.timeloop import StepModule, run, select_samples
from primekit.snn.weight_sources import (
    FrozenWeights,
    GaussianWeights,
    TrainableWeights,
    WeightSource,
)

#: Shapes of the three weight tensors, by layer name.
WEIGHT_SHAPES = {"conv0": (12, 2, 5, 5), "conv1": (64, 12, 5, 5), "linear": (10, 2304)}
#: The authors' frozen-weight distribution: ``0.01 * N(0, 6.352^2)``.
SOFTWARE_STD, SOFTWARE_SCALE = 6.352, 0.01
#: Layer names in the authors' state dict.
CHECKPOINT_NAMES = {"conv0": "features.conv0", "conv1": "features.conv1", "linear": "classifier.linear0"}


class PRIMEState(NamedTuple):
    """The network's state: the two LIF layers and the output integrator (batch first).

    ``rows`` (inference only, set by :meth:`PRIMENet.select_state`): sample ``b``'s LIF state is row ``rows[b]``
    of ``lif0`` and ``lif1``, so samples can leave the batch without a copy of the large LIF states.
    """

    lif0: LIFState | None
    lif1: LIFState | None
    out: IntegratorState | None
    rows: torch.Tensor | None = None


class PRIMENet(StepModule):
    """The PRIME convolutional SNN for N-MNIST, one timestep at a time.

    Args:
        sources: a weight source per layer (``conv0``, ``conv1``, ``linear``).
        keep_ratio: fraction of weights kept in every layer (1.0: no mask, e.g. weight tuning).
        neuron: parameters of the hidden LIF neurons.
        seed: seed of the scores' initialisation (one child seed per layer).
    """

    def __init__(self, sources: dict[str, WeightSource], keep_ratio: float = 0.5,
                 neuron: LIFParameters = PRIME_LIF, seed: int = 0):
        super().__init__()
        check_instance("sources", sources, Mapping, "a mapping from layer name to weight source")
        missing = set(WEIGHT_SHAPES) - set(sources)
        if missing:
            raise ValueError(f"sources lacks layers {sorted(missing)}; give one for each of {list(WEIGHT_SHAPES)}")
        for name, shape in WEIGHT_SHAPES.items():
            if tuple(sources[name].shape) != shape:
                raise ValueError(f"sources[{name!r}] has shape {tuple(sources[name].shape)}, the layer needs {shape}")
        self.neuron = neuron
        self.conv0 = SubnetConv2d(sources["conv0"], keep_ratio, derive_seed(seed, "scores", "conv0"), padding=1)
        self.conv1 = SubnetConv2d(sources["conv1"], keep_ratio, derive_seed(seed, "scores", "conv1"))
        self.linear = SubnetLinear(sources["linear"], keep_ratio, derive_seed(seed, "scores", "linear"))

    def init_state(self, batch_size: int) -> PRIMEState:
        return PRIMEState(None, None, None)  # zeros, shaped on the first step

    def features(self, x_t: torch.Tensor, state: PRIMEState) -> tuple[torch.Tensor, PRIMEState]:
        """The two spiking conv blocks: input ``[B, 2, 34, 34]`` -> pooled spikes ``[B, 2304]``."""
        if x_t.dim() != 4 or tuple(x_t.shape[1:]) != (2, 34, 34):
            raise ValueError(f"x_t must be one frame per sample, [B, 2, 34, 34]; got {tuple(x_t.shape)}")
        if not torch.is_grad_enabled() and fusable(self.neuron, x_t):  # one fused pass per LIF layer and pool
            p0, lif0 = lif_pool_step(self.conv0(x_t), state.lif0, self.neuron, state.rows)
            p1, lif1 = lif_pool_step(self.conv1(p0), state.lif1, self.neuron, state.rows)
            return p1.flatten(1), PRIMEState(lif0, lif1, state.out)
        if state.rows is not None:  # samples left the batch: select their LIF rows now
            state = PRIMEState(*(select_samples(lif, state.rows) for lif in state[:2]), state.out)
        s0, lif0 = lif_step(self.conv0(x_t), state.lif0, self.neuron)
        s1, lif1 = lif_step(self.conv1(F.avg_pool2d(s0, 2)), state.lif1, self.neuron)
        return F.avg_pool2d(s1, 2).flatten(1), PRIMEState(lif0, lif1, state.out)

    def select_state(self, state: PRIMEState, keep: torch.Tensor) -> PRIMEState:
        """Keep the samples ``keep`` (bool mask or indices) of ``state``: the integrator's rows are copied, the LIF
        states only re-indexed (``rows``), which the next step reads in place."""
        if state.lif0 is None:
            return select_samples(state, keep)
        rows = torch.arange(state.lif0.v.shape[0]) if state.rows is None else state.rows
        return PRIMEState(state.lif0, state.lif1, select_samples(state.out, keep), rows[keep])

    def step(self, x_t: torch.Tensor, state: PRIMEState) -> tuple[torch.Tensor, PRIMEState]:
        features, state = self.features(x_t, state)
        v, out = integrator_step(self.linear(features), state.out, self.neuron.leaky_relu_slope)
        return v, PRIMEState(state.lif0, state.lif1, out)  # rows: None, the LIF states are the batch's own

    def can_fold(self, x: torch.Tensor | None = None) -> bool:
        """True when :meth:`folded_outputs` applies: no layer draws keyed random values per step (a chip with
        read noise runs step by step), the neurons are fusable and ``x`` (if given) is float32 on the CPU."""
        layers = (self.conv0, self.conv1, self.linear)
        return fusable(self.neuron, x) and not any(m.weight_source.draws_per_read for m in layers)

    def folded_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The output membranes ``[T, B, 10]`` of frames ``[T, B, 2, 34, 34]``, layer by layer over all T at once.

        A feedforward SNN's layer input never depends on that layer's state, so each map runs once over the
        ``T x B`` frames (its mask formed once), and each LIF layer and the pool after it run their T steps in one
        fused kernel (:func:`primekit.snn.fused.lif_pool_sequence`). Equal to :func:`primekit.snn.timeloop.run` over :meth:`step`
        in value and gradient (float rounding aside); needs :meth:`can_fold`.
        """
        if x.dim() != 5 or tuple(x.shape[2:]) != (2, 34, 34):
            raise ValueError(f"x must be time-major frames [T, B, 2, 34, 34]; got {tuple(x.shape)}")
        if not self.can_fold(x):
            raise ValueError("folded_outputs needs can_fold(x): a chip with read noise, a non-rectangle surrogate "
                             "or a non-float32 input runs step by step (run(model, x))")
        steps, batch = x.shape[:2]
        p0 = lif_pool_sequence(self.conv0(x.flatten(0, 1)).unflatten(0, (steps, batch)), self.neuron)
        p1 = lif_pool_sequence(self.conv1(p0.flatten(0, 1)).unflatten(0, (steps, batch)), self.neuron)
        currents = self.linear(p1.flatten(2))  # [T, B, 10]
        outputs, state = [], None
        for current in currents:
            v, state = integrator_step(current, state, self.neuron.leaky_relu_slope)
            outputs.append(v)
        return torch.stack(outputs)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores for time-major frames ``[T, B, 2, 34, 34]``: the time-mean output membrane (time-folded
        when :meth:`can_fold`, else step by step; the two agree)."""
        outputs = self.folded_outputs(x) if self.can_fold(x) else run(self, x).outputs
        return outputs.mean(dim=0)


def software_sources(seed: int = 0) -> dict[str, WeightSource]:
    """Frozen software random weights ``0.01 * N(0, 6.352^2)`` for each layer (one child seed per layer)."""
    return {name: GaussianWeights(shape, SOFTWARE_STD, SOFTWARE_SCALE, derive_seed(seed, "weights", name))
            for name, shape in WEIGHT_SHAPES.items()}


def kaiming_sources(seed: int = 0) -> dict[str, WeightSource]:
    """Trainable weights with PyTorch's default (Kaiming-uniform, a = sqrt(5)) initialisation."""
    from primekit.snn.subnet import init_scores

    return {name: TrainableWeights(init_scores(shape, derive_seed(seed, "weights", name)))
            for name, shape in WEIGHT_SHAPES.items()}


@dataclass(frozen=True)
class ReleasedCheckpoint:
    """The authors' released N-MNIST model as loaded tensors (``weight`` unscaled, ``scores``), by layer."""

    weights: dict[str, torch.Tensor]
    scores: dict[str, torch.Tensor]


def read_released_checkpoint(path: str | Path) -> ReleasedCheckpoint:
    """Read the authors' ``classification.pt`` (saved on a GPU: loaded with ``map_location='cpu'``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"checkpoint {path} cannot be read as a torch state dict ({type(error).__name__}: {error})") from error
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    weights, scores = {}, {}
    for name, prefix in CHECKPOINT_NAMES.items():
        for field, store in (("weight", weights), ("scores", scores)):
            key = f"{prefix}.{field}"
            if key not in state:
                raise ValueError(f"checkpoint {path} has no {key!r}; keys found: {sorted(state)[:10]}")
            tensor = state[key].float()
            if tuple(tensor.shape) != WEIGHT_SHAPES[name]:
                raise ValueError(f"checkpoint {path}: {key} has shape {tuple(tensor.shape)}, expected {WEIGHT_SHAPES[name]}")
            store[name] = tensor
    return ReleasedCheckpoint(weights, scores)


def load_released_model(path: str | Path | None = None, keep_ratio: float = 0.5) -> PRIMENet:
    """The authors' released model as a :class:`PRIMENet` (their frozen weights x 0.01, their scores).

    ``path`` None reads the copy shipped in ``data/reference`` after checking its SHA-256
    (:func:`primekit.reference.reference_path`).
    """
    checkpoint = read_released_checkpoint(reference_path("released-classifier") if path is None else path)
    sources = {name: FrozenWeights(SOFTWARE_SCALE * w) for name, w in checkpoint.weights.items()}
    model = PRIMENet(sources, keep_ratio)
    with torch.no_grad():
        for name in WEIGHT_SHAPES:
            getattr(model, name).scores.copy_(checkpoint.scores[name])
    return model.eval()
