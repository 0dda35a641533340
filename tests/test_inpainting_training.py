"""The cached inpainting pipelines on the tiny profile: the three methods, the digit classifier, chips."""

import pytest
import torch

from primekit import profiles
from primekit.chip.deploy import ChipWeights, deploy
from primekit.chip.memristor import MemristorConfig
from primekit.data.inpainting import inpainting_digits
from primekit.experiments.inpainting_training import (
    INPAINTING_METHODS,
    VAE_MEMRISTOR,
    VAETrainConfig,
    build_vae,
    deploy_vae,
    train_digit_classifier,
    train_inpainting,
)
from primekit.inference.inpainting_metrics import reconstruct
from primekit.snn.vae import PRUNED_SHAPES


def test_methods_build_the_intended_weights():
    tuning = build_vae(VAETrainConfig("weight-tuning"), 0)
    assert all(p.requires_grad for n, p in tuning.named_parameters() if n.endswith("weight_source.weight"))
    assert tuning.pruned_layers()["out"].scores is None
    software = build_vae(VAETrainConfig("software-pruning"), 0)
    weight = software.pruned_layers()["decoder.dec2.layer"].weight_source.read()
    assert weight.std().item() == pytest.approx(0.003 * 6.91593, rel=0.05)
    chip = build_vae(VAETrainConfig("memristor-pruning"), 0)
    sources = [m.weight_source for m in chip.pruned_layers().values()]
    assert all(isinstance(s, ChipWeights) and s.config.weight_scale == 0.003 for s in sources)
    assert len(sources) == len(PRUNED_SHAPES)
    with pytest.raises(ValueError, match="method"):
        VAETrainConfig("random-software")
    with pytest.raises(ValueError, match="scheduled"):
        VAETrainConfig("weight-tuning", scheduled=(0.1, 2.0))
    assert VAETrainConfig("weight-tuning").scheduled_p(0, 150) == pytest.approx(0.1)


def test_chip_of_another_weight_scale_is_refused():
    model = build_vae(VAETrainConfig("memristor-pruning"), 0)
    with pytest.raises(ValueError, match="weight_scale"):
        deploy(model, MemristorConfig(), only=model.pruned_layers())
    chip = deploy_vae(model, read_noise=0.02)
    assert chip.posterior.blocks[0].layer.weight_source.__class__.__name__ == "TrainableWeights"
    assert chip.pruned_layers()["out"].weight_source.config.read_noise == 0.02
    assert VAE_MEMRISTOR.weight_scale == 0.003


def test_train_inpainting_is_cached_and_records_its_speed():
    profile = profiles.get_profile("tiny")
    splits = inpainting_digits(profile)
    first = train_inpainting("software-pruning", profile, show_progress=False)
    assert len(first.history.loss) == profile.inpainting.epochs
    history = first.history
    assert history.samples_per_second == pytest.approx([len(splits.train) / s for s in history.seconds])
    # the last epoch's test loss is the MSE of the (cached) final model's full-T reconstructions
    images = reconstruct(first.model, splits.test).images
    assert history.test_whole[-1] == pytest.approx(((images - splits.test.targets()) ** 2).mean().item(), rel=1e-5)
    again = train_inpainting("software-pruning", profile, show_progress=False)
    assert again.train_seconds == first.train_seconds
    for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)
    assert set(INPAINTING_METHODS) == {"weight-tuning", "software-pruning", "memristor-pruning"}


def test_digit_classifier_is_trained_and_cached():
    profile = profiles.get_profile("tiny")
    trained = train_digit_classifier(profile, epochs=2)
    test = inpainting_digits(profile).test
    with torch.no_grad():
        predictions = trained.model(test.targets()).argmax(dim=1).numpy()
    assert trained.test_accuracy == pytest.approx((predictions == test.labels).mean())
    assert trained.test_accuracy > 0.2  # two epochs lift it well above chance (0.1)
    assert train_digit_classifier(profile, epochs=2).test_accuracy == trained.test_accuracy
