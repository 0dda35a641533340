"""Training: only scores move in pruning methods, scores learn, weight tuning learns, results are cached."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import primekit
from primekit.data.datasets import nmnist_frames
from primekit.experiments import training as train

SMALL = primekit.Profile(name="small", data_source="emulated", n_train=40, n_test=20, timesteps=10,
                         epochs=1, batch_size=20, seed=0)


@pytest.fixture(scope="module")
def small_frames(tmp_path_factory):
    import os

    old = os.environ.get("PRIMEKIT_DATA")
    os.environ["PRIMEKIT_DATA"] = str(tmp_path_factory.mktemp("data"))
    try:
        yield nmnist_frames(SMALL)
    finally:
        if old is None:
            os.environ.pop("PRIMEKIT_DATA", None)
        else:
            os.environ["PRIMEKIT_DATA"] = old


def test_each_method_builds_the_documented_network():
    software = train.build_model(train.TrainConfig("software-pruning"), seed=0)
    chip = train.build_model(train.TrainConfig("memristor-pruning"), seed=0)
    tuned = train.build_model(train.TrainConfig("weight-tuning"), seed=0)
    assert [n for n, p in software.named_parameters() if p.requires_grad] == [
        "conv0.scores", "conv1.scores", "linear.scores"]
    assert [n for n, p in tuned.named_parameters() if p.requires_grad] == [
        "conv0.weight_source.weight", "conv1.weight_source.weight", "linear.weight_source.weight"]
    assert tuned.conv0.keep_mask() is None
    w = chip.conv1.weight_source.read()
    assert abs(w.std().item() / 0.01 - 6.36) < 0.3  # 0.01 (G+ - G-) of a formed chip
    assert primekit.snn.subnet.kept_fractions(software)["linear"] == primekit.snn.subnet.keep_count(23040, 0.5) / 23040


def test_score_training_halves_the_loss_on_one_fixed_batch(small_frames):
    torch.manual_seed(0)
    model = train.build_model(train.TrainConfig("software-pruning"), seed=1)
    x = small_frames.train.time_major(np.arange(20))
    y = torch.from_numpy(small_frames.train.labels[:20])
    weights_before = {k: v.clone() for k, v in model.state_dict().items() if "weight" in k}
    optimizer = torch.optim.Adam([model.conv0.scores, model.conv1.scores, model.linear.scores], lr=1e-2)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model.logits(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < 0.5 * losses[0], losses
    for key, before in weights_before.items():
        assert torch.equal(model.state_dict()[key], before), key  # frozen weights: bit-identical


def test_weight_tuning_beats_chance_by_twenty_points_in_the_tiny_profile(data_root):
    tiny = primekit.get_profile("tiny")
    result = train.train_method("weight-tuning", tiny)
    assert result.test_accuracy >= 0.30, result.history
    assert len(result.history.test_accuracy) == tiny.epochs


def test_training_is_cached_and_reproducible(small_frames, capsys):
    first = train.train_method("software-pruning", SMALL, small_frames)
    capsys.readouterr()
    second = train.train_method("software-pruning", SMALL, small_frames)
    assert "loaded train-software-pruning" in capsys.readouterr().err
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    # recomputing from scratch with the same seed gives the same model (determinism, not just the cache)
    again = train.build_model(train.TrainConfig("software-pruning"), SMALL.seed)
    train.fit(again, small_frames.train, small_frames.test, train.TrainConfig("software-pruning"),
              epochs=SMALL.epochs, batch_size=SMALL.batch_size, seed=SMALL.seed, show_progress=False)
    assert torch.equal(again.linear.scores, first.model.linear.scores)


def test_untrained_baselines_keep_their_initial_mask(small_frames):
    result = train.train_method("random-software", SMALL, small_frames)
    initial = train.build_model(train.TrainConfig("random-software"), SMALL.seed)
    assert torch.equal(result.model.conv1.keep_mask(), initial.conv1.keep_mask())
    assert result.history.loss == []


def test_bad_train_config_raises():
    with pytest.raises(ValueError, match=r"method='magic' must be one of"):
        train.TrainConfig("magic")
    with pytest.raises(ValueError, match=r"lr=0 must be a finite number > 0"):
        train.TrainConfig("weight-tuning", lr=0)
