"""``--detector annotations``: the boxes of ``-a`` (CityPersons, COCO instances or simple JSON) as detections of
score 1; ``selects`` keeps those of ``--labels`` (each keeps its index in the file, which the report shows).

A frame without a matching annotation, or with a broken one, raises AnnotationError (the frame fails alone). An
annotation made for another frame size (CityPersons imgWidth/imgHeight, COCO width/height) is refused, unless
``--scale_boxes`` scales its boxes outward to the image (``data.boxes.scale_box``). A label in ``--labels`` that no
annotation uses and that is no known person label is a typo, refused when the detector is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from data.boxes import scale_box

from ..annotations import DEFAULT_LABELS, KNOWN_LABELS, AnnotationError, AnnotationIndex, FrameAnnotation, Person
from ..detection import Detection, DetectionError, Detector, Frame


def frame_persons(annotation: FrameAnnotation, size: tuple[int, int], scale: bool) -> list[Person]:
    """The annotation's persons in the image's pixels (see the module docstring)."""
    if annotation.size is None or annotation.size == size:
        return annotation.persons
    if not scale:
        raise DetectionError(f"the annotation {annotation.source} is for {annotation.size[0]}x{annotation.size[1]} "
                             f"frames but the image is {size[0]}x{size[1]}; its boxes would miss the persons "
                             "(--scale_boxes scales them)")
    return [replace(p, box=scale_box(p.box, annotation.size, size)) for p in annotation.persons]


class AnnotationDetector(Detector):
    uses_pixels = False

    def __init__(self, index: AnnotationIndex, labels: set[str], source: str, scale_boxes: bool = False) -> None:
        unknown = index.unknown_labels(sorted(labels))
        if unknown:
            found = ", ".join(sorted(index.labels)) or "none"
            raise AnnotationError(f"--labels {' '.join(unknown)}: no such label in the annotations (found: {found}; "
                                  f"known: {', '.join(KNOWN_LABELS)})")
        self.index = index
        self.labels = labels
        self.scale_boxes = scale_boxes
        self.identity = f"annotations:{source}"

    def detect(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        out = []
        for frame in frames:
            annotation = self.index.lookup(PurePosixPath(frame.name))
            if annotation is None:
                raise AnnotationError(f"{frame.name}: no annotation matches this image")
            if annotation.error:
                raise AnnotationError(annotation.error)
            size = (frame.image.shape[1], frame.image.shape[0])
            out.append([Detection(tuple(float(v) for v in p.box), 1.0, p.label, crowd=p.crowd)
                        for p in frame_persons(annotation, size, self.scale_boxes)])
        return out

    def selects(self, detection: Detection) -> bool:
        return detection.label in self.labels

    def note(self, detections: list[Detection]) -> str | None:
        unselected = sorted({d.label for d in detections if d.label in DEFAULT_LABELS and not self.selects(d)})
        if unselected and not any(self.selects(d) for d in detections):
            return (f"none of the frame's annotated persons was selected by --labels (it has: "
                    f"{', '.join(unselected)}); nobody in it was anonymized")
        return None
