"""In-box pairwise LPIPS diversity over K samples per input."""

from __future__ import annotations

import math

import pytest
import torch

from evaluation.diversity import crop_box, lpips_diversity
from evaluation.lpips import LPIPS


@pytest.fixture(scope="module")
def alex() -> LPIPS:
    return LPIPS("alex")


def samples(k: int, seed: int, size: int = 64) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(k, 3, 8, 8, generator=gen)
    return torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False) * 2 - 1


def test_identical_samples_have_zero_diversity(alex):
    same = samples(1, 0).repeat(3, 1, 1, 1)
    result = lpips_diversity([same, same.clone()], [(8, 4, 40, 60), None], alex)
    assert result["mean"] == pytest.approx(0.0, abs=1e-7)
    assert result["n_inputs"] == 2 and result["n_pairs"] == 6 and result["n_skipped"] == 0


def test_different_samples_are_diverse_and_only_the_box_counts(alex):
    base = samples(1, 1).repeat(3, 1, 1, 1)
    varied = base.clone()
    varied[:, :, 10:50, 20:44] = samples(3, 2)[:, :, 10:50, 20:44]  # the samples differ inside the box only
    inside = lpips_diversity([varied], [(20, 10, 44, 50)], alex)
    assert inside["mean"] > 0.01 and inside["std"] >= 0 and inside["n_pairs"] == 3
    outside = lpips_diversity([varied], [(0, 52, 64, 64)], alex)  # a box below the changed region
    assert outside["mean"] == pytest.approx(0.0, abs=1e-7)


def test_tiny_boxes_are_upscaled_and_single_samples_skipped(alex):
    crop = crop_box(samples(2, 3), (5, 5, 13, 21))  # 8×16 box → 32×64
    assert crop.shape == (2, 3, 64, 32)
    assert crop_box(samples(2, 3), (0, 0, 40, 50)).shape == (2, 3, 50, 40)  # large enough: unchanged
    result = lpips_diversity([samples(4, 4), samples(1, 5)], [(5, 5, 13, 21), (0, 0, 10, 10)], alex)
    assert result["n_inputs"] == 1 and result["n_skipped"] == 1 and result["n_pairs"] == 6
    assert result["mean"] > 0 and math.isnan(result["per_input"][1])
    assert result["mean_of_input_means"] == pytest.approx(result["mean"])


def test_bad_boxes_and_lengths(alex):
    with pytest.raises(ValueError, match="empty"):
        crop_box(samples(2, 6), (70, 70, 80, 80))
    with pytest.raises(ValueError, match="boxes"):
        lpips_diversity([samples(2, 6)], [], alex)
