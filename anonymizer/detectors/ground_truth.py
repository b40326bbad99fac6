"""``--detector annotations``: the boxes of ``-a`` (CityPersons, COCO instances or simple JSON) as detections of
score 1; ``selects`` keeps those of ``--labels`` (each keeps its index in the file, which the report shows).
A frame without a matching annotation, or with a broken one, raises AnnotationError (the frame fails alone)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from ..annotations import AnnotationError, AnnotationIndex
from ..detection import Detection, Detector, Frame


class AnnotationDetector(Detector):
    uses_pixels = False

    def __init__(self, index: AnnotationIndex, labels: set[str], source: str) -> None:
        self.index = index
        self.labels = labels
        self.identity = f"annotations:{source}"

    def detect(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        out = []
        for frame in frames:
            annotation = self.index.lookup(PurePosixPath(frame.name))
            if annotation is None:
                raise AnnotationError(f"{frame.name}: no annotation matches this image")
            if annotation.error:
                raise AnnotationError(annotation.error)
            out.append([Detection(tuple(float(v) for v in p.box), 1.0, p.label, crowd=p.crowd)
                        for p in annotation.persons])
        return out

    def selects(self, detection: Detection) -> bool:
        return detection.label in self.labels
