"""``--detector onnx:FILE``: a user's YOLO-format ONNX export, run by onnxruntime on square tiles.

The format is the one YOLOv5u/v8/11 exports write: input ``N×3×S×S`` float RGB in [0, 1]; output ``N×(4+C)×A``
(or ``N×A×(4+C)``; the shorter axis is taken as the 4 + C values) holding per candidate the box centre x, y,
width and height in input pixels, then C class scores as probabilities. The person class is column
``--person_class`` (0 for COCO-trained models). A fixed batch size of 1 in the file is honoured (tiles one by one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from util.weights import sha256_of

from ..detection import DetectionError
from .onnx_session import onnx_session

DEFAULT_INPUT = 640
# YOLO models at 640 px find people from about this height (model pixels) up.
MIN_OBJECT_PX = 24.0


class YoloOnnxTileModel:
    label = "person"
    min_object_px = MIN_OBJECT_PX

    def __init__(self, path: str | Path, person_class: int = 0, device: str = "cpu") -> None:
        path = Path(path)
        if not path.is_file():
            raise DetectionError(f"{path}: ONNX detector file not found (--detector onnx:FILE)")
        self.session = onnx_session(str(path), device, str(path))
        model_input = self.session.get_inputs()[0]
        shape = model_input.shape
        if len(shape) != 4 or shape[1] not in (3, "3"):
            raise DetectionError(f"{path}: input {model_input.name} must be N×3×S×S, got {shape}")
        sides = [s for s in shape[2:] if isinstance(s, int)]
        self.input_size = sides[0] if sides else DEFAULT_INPUT
        if len(sides) == 2 and sides[0] != sides[1]:
            raise DetectionError(f"{path}: input must be square, got {shape[2]}×{shape[3]}")
        self.fixed_batch = shape[0] if isinstance(shape[0], int) else None
        self.input_name = model_input.name
        self.person_class = int(person_class)
        self.path = path
        self.identity = f"onnx:{path.name} sha256:{sha256_of(path)[:16]} class={self.person_class}"
        # One blank tile now, so a wrong output layout or class fails at start-up, not on every frame.
        self.run(np.zeros((self.fixed_batch or 1, 3, self.input_size, self.input_size), dtype=np.float32))

    def run(self, batch: np.ndarray) -> np.ndarray:
        try:
            (output, *_) = self.session.run(None, {self.input_name: batch})
        except Exception as error:  # noqa: BLE001
            raise DetectionError(f"{self.path}: inference failed ({error})") from None
        if output.ndim != 3:
            raise DetectionError(f"{self.path}: output must be N×(4+C)×A, got shape {list(output.shape)}")
        if output.shape[1] > output.shape[2]:
            output = output.transpose(0, 2, 1)
        classes = output.shape[1] - 4
        if not 0 <= self.person_class < classes:
            raise DetectionError(f"{self.path}: --person_class {self.person_class} but the model has {classes} "
                                 "classes")
        return output

    def __call__(self, tiles: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        images = tiles.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        step = self.fixed_batch or len(images)
        outputs = np.concatenate([self.run(images[k:k + step]) for k in range(0, len(images), step)])
        results = []
        for output in outputs:
            cx, cy, w, h = output[:4]
            boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) / self.input_size
            results.append((boxes, output[4 + self.person_class]))
        return results
