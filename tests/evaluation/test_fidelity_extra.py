"""FID/IS extensions, the plain-torch FID Inception, masked PSNR/SSIM, the real-feature cache, baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from evaluation import fidelity_sets
from evaluation.background import background_metrics, masked_psnr, masked_ssim, outside_mask
from evaluation.baselines import apply_baseline, parse_baselines
from evaluation.inception import FIDInceptionV3, InceptionWithLogits, inception_score
from util.weights import WeightsFile


class TinyFeatures(nn.Module):
    """A stand-in for Inception: pooled random conv features."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)).mean(dim=(2, 3)).double()


def test_fid_of_a_set_with_itself_is_zero():
    feats = np.random.default_rng(0).normal(size=(50, 8))
    scores = fidelity_sets.fidelity_scores(feats, feats, None, seed=0)
    assert abs(scores["fid"]) < 1e-6
    assert scores["inception_score"] == fidelity_sets.IS_NOT_AVAILABLE


def test_inception_state_dict_round_trip(tmp_path):
    torch.manual_seed(0)
    net = FIDInceptionV3()
    for module in net.modules():  # non-trivial BatchNorm statistics, so a wrong key would show
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert "Mixed_7c.branch3x3dbl_3b.conv.weight" in state and state["fc.weight"].shape == (1008, 2048)
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    direct = InceptionWithLogits(net=net).features_and_logits(images)
    loaded = InceptionWithLogits(weights=path)
    again = loaded.features_and_logits(images)
    assert torch.allclose(direct[0], again[0]) and torch.allclose(direct[1], again[1])
    assert again[0].shape == (2, 2048) and again[1].shape == (2, 1008)
    assert loaded.weights_file.sha256 and loaded.weights_file.path == path
    broken = dict(state)
    broken.pop("fc.bias")
    torch.save(broken, path)
    with pytest.raises(ValueError, match="fc.bias"):
        InceptionWithLogits(weights=path)


def test_inception_score_matches_the_formula():
    logits = np.random.default_rng(1).normal(size=(20, 5)) * 3
    mean, std = inception_score(logits, splits=2)
    scores = []
    for part in (logits[:10], logits[10:]):
        p = np.exp(part) / np.exp(part).sum(axis=1, keepdims=True)
        marginal = p.mean(axis=0)
        scores.append(math.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))
    assert mean == pytest.approx(np.mean(scores)) and std == pytest.approx(np.std(scores))
    uniform, _ = inception_score(np.zeros((10, 4)), splits=1)
    assert uniform == pytest.approx(1.0)


def test_masked_psnr_and_ssim_ignore_the_box():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8)
    fake = real.copy()
    box = (5, 8, 20, 30)
    fake[8:30, 5:20] = 255 - fake[8:30, 5:20]
    mask = outside_mask(40, 30, box)
    assert masked_psnr(fake, real, mask) == math.inf
    assert masked_ssim(fake, real, mask) == pytest.approx(1.0)
    summary = background_metrics([fake], [real], [box])
    assert summary["psnr_identical_count"] == 1 and summary["ssim_outside_box"] == pytest.approx(1.0)
    fake[0, 0] = 255 - fake[0, 0]  # one changed pixel outside the box
    assert math.isfinite(masked_psnr(fake, real, mask)) and masked_ssim(fake, real, mask) < 1.0


def test_real_features_are_cached_by_content(tmp_path, monkeypatch):
    from PIL import Image

    rng = np.random.default_rng(0)
    files, images = [], []
    for i in range(4):
        image = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
        files.append(tmp_path / f"{i}_real_B.png")
        Image.fromarray(image).save(files[-1])
        images.append(image)
    extractor = TinyFeatures()
    extractor.weights_file = WeightsFile(files[0], "test", "test", "test")
    cache = fidelity_sets.RealFeatureCache(tmp_path / "cache", quiet=True)
    first, key, hit = cache.features(files, images, extractor)
    calls = []
    monkeypatch.setattr(fidelity_sets, "run_inception", lambda *a, **k: calls.append(1))
    second, key2, hit2 = cache.features(files, images, extractor)
    assert (hit, hit2, key) == (False, True, key2) and cache.computed == 1 and not calls
    np.testing.assert_array_equal(first, second)
    Image.fromarray(255 - images[0]).save(files[1])  # changed content: a new key
    assert fidelity_sets.content_key(files, extractor) != key


def test_baselines_change_only_the_box():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8) for _ in range(2)]
    boxes = [(4, 6, 20, 30), (10, 0, 32, 16)]
    for method in parse_baselines("blur,pixelate,mask,noise"):
        for image, out, (x1, y1, x2, y2) in zip(images, apply_baseline(images, boxes, method), boxes, strict=True):
            outside = outside_mask(32, 32, (x1, y1, x2, y2))
            assert np.array_equal(out[outside], image[outside])
            assert not np.array_equal(out[y1:y2, x1:x2], image[y1:y2, x1:x2])
    noisy = [apply_baseline(images, boxes, "noise", seed=0, sample=k)[0] for k in (0, 1)]
    assert not np.array_equal(noisy[0], noisy[1])
    with pytest.raises(ValueError, match="--baselines"):
        parse_baselines("blur,smear")
