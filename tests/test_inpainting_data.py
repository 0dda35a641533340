"""Inpainting data: the damage mask, the authors' resize, the splits, the profile sizes."""

import numpy as np
import pytest
import torch

from primekit import profiles
from primekit.data.inpainting import damage, damage_mask, inpainting_digits, make_split, to_32


def test_damage_mask_covers_exactly_the_64_central_pixels():
    mask = damage_mask()
    assert mask.sum() == 64
    rows, cols = np.nonzero(mask)
    assert rows.min() == 12 and rows.max() == 19 and cols.min() == 12 and cols.max() == 19
    images = np.ones((2, 1, 32, 32), dtype=np.float32)
    damaged = damage(images)
    assert (damaged[:, 0][:, mask] == -1).all() and (damaged[:, 0][:, ~mask] == 1).all()
    assert (images == 1).all(), "damage must not modify its input"


def test_resize_to_32_keeps_range_and_background():
    digits = np.zeros((2, 28, 28), dtype=np.uint8)
    digits[1, 10:18, 10:18] = 255
    out = to_32(digits)
    assert out.shape == (2, 1, 32, 32) and out.dtype == np.float32
    assert (out[0] == -1).all()
    assert out.max() == 1.0 and out.min() == -1.0
    # grey levels are whole numbers of 1/255 steps, as PIL's 8-bit output
    levels = (out + 1) / 2 * 255
    assert np.allclose(levels, np.round(levels), atol=1e-4)
    padded = to_32(digits, "pad")
    assert (padded[1, 0, 12:20, 12:20] == 1).all() and (padded[1, 0, :2] == -1).all()


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="images"):
        to_32(np.zeros((2, 32, 32), dtype=np.uint8))
    with pytest.raises(ValueError, match="method"):
        to_32(np.zeros((1, 28, 28), dtype=np.uint8), method="crop")
    with pytest.raises(ValueError, match="timesteps"):
        make_split(np.zeros((1, 28, 28), dtype=np.uint8), [0], [0], timesteps=0)
    with pytest.raises(ValueError, match="inpainting timesteps"):
        profiles.InpaintingSizes(10, 10, timesteps=0)


def test_split_repeats_the_damaged_digit_over_time():
    sizes = profiles.get_profile("tiny").inpainting
    splits = inpainting_digits(profiles.get_profile("tiny"))
    assert len(splits.train) == sizes.n_train and len(splits.test) == sizes.n_test
    assert not set(splits.train.indices) & set(splits.test.indices)
    x = splits.test.time_major(np.array([0, 3]))
    assert x.shape == (sizes.timesteps, 2, 1, 32, 32) and x.stride(0) == 0
    assert torch.equal(x[0], x[-1])
    assert (x[0, :, 0, 12:20, 12:20] == -1).all()
    clean = splits.test.targets(np.array([0, 3]))
    outside = ~torch.from_numpy(damage_mask())
    assert torch.equal(clean[:, 0][:, outside], x[0, :, 0][:, outside])


def test_profiles_carry_the_papers_inpainting_sizes():
    paper = profiles.PROFILES["paper"].inpainting
    assert (paper.n_train, paper.n_test, paper.timesteps, paper.epochs, paper.batch_size) == (None, None, 16, 150, 250)
    assert profiles.PROFILES["book"].inpainting.timesteps == 16
    tiny = profiles.PROFILES["tiny"].inpainting
    assert tiny.n_train * tiny.epochs <= 100


def test_paper_profile_names_the_missing_mnist_folder(tmp_path, monkeypatch):
    from primekit import paths

    monkeypatch.setattr(paths, "raw_dir", lambda: tmp_path)
    paper = profiles.PROFILES["paper"]
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "MNIST")):
        inpainting_digits(paper)
