"""From detections to what is done to each person of one frame, and the frame's report entry.

Every detector's detections are numbered in order (persons first, then faces; with annotations the number is the
object's position in the file). A selected detection becomes a ``Person`` for ``frame.anonymize_frame``:

- score ≥ ``--detection_threshold``: the chosen ``--method`` (GAN or traditional);
- ``--fallback_threshold`` ≤ score < ``--detection_threshold``, a face, or a tracked person the detector missed in
  this frame (coasting): a traditional method, with the reason in the report;
- below ``--fallback_threshold``: nothing (never reported by model detectors, which drop such boxes).

With tracking, each person carries its track id, which seeds its randomness (one look per person over a video).
``--show_detections`` draws the same decisions instead of applying them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from data.instance_ids import InstanceIdsIndex

from .annotations import Person
from .detection import Detection, Detector, Frame
from .frame import anonymize_frame
from .generator import WindowGenerator
from .tracking import Coasting, IoUTracker

# Drawing colours (RGB) for --show_detections.
COLOURS = {"method": (0, 220, 0), "traditional": (255, 165, 0), "coasting": (230, 0, 230)}


@dataclass(frozen=True)
class Thresholds:
    detection: float
    fallback: float


@dataclass
class Candidate:
    """One numbered detection (or coasting track) and what it becomes."""

    index: int
    detection: Detection
    person: Person
    track: int | None = None
    coasting: bool = False

    def extra(self) -> dict:
        out = {"score": round(self.detection.score, 4), "detected_box": [round(v, 2) for v in self.detection.box]}
        if self.track is not None:
            out["track"] = self.track
        if self.coasting:
            out["coasting"] = True
        return out


def forced_reason(detection: Detection, thresholds: Thresholds) -> str | None:
    if detection.label == "face":
        return "face: faces get a traditional method"
    if detection.score < thresholds.detection:
        return (f"uncertain detection: score {detection.score:.2f} < --detection_threshold "
                f"{thresholds.detection:g}")
    return None


def outward(box: Sequence[float]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    return math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)


def candidates(found: list[tuple[Detector, list[Detection]]], thresholds: Thresholds,
               tracker: IoUTracker | None, width: int, height: int) -> list[Candidate]:
    numbered = [(k, detector, d) for k, (detector, d) in
                enumerate((detector, d) for detector, dets in found for d in dets)]
    chosen = [(k, d) for k, detector, d in numbered if detector.selects(d) and d.score >= thresholds.fallback]
    identities: list[int | None] = [None] * len(chosen)
    coasting: list[Coasting] = []
    if tracker is not None:
        identities, coasting = tracker.update([d for _, d in chosen], width, height)
    out = [Candidate(k, d, Person(outward(d.box), d.label, d.crowd, forced_reason(d, thresholds), identity),
                     identity) for (k, d), identity in zip(chosen, identities, strict=True)]
    for n, track in enumerate(coasting, start=len(numbered)):
        reason = f"tracked person not detected in this frame ({track.misses} frame(s) in a row)"
        out.append(Candidate(n, Detection(track.box, 0.0, track.label),
                             Person(outward(track.box), track.label, False, reason, track.identity),
                             track.identity, coasting=True))
    return out


def draw(image: np.ndarray, chosen: list[Candidate]) -> np.ndarray:
    """The frame with every candidate's box, label, score and track drawn (colour = what would be done)."""
    out = np.ascontiguousarray(image.copy())
    for c in chosen:
        kind = "coasting" if c.coasting else ("traditional" if c.person.forced else "method")
        x1, y1, x2, y2 = c.person.box
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), COLOURS[kind], 2)
        text = f"{c.detection.label} {c.detection.score:.2f}" + (f" #{c.track}" if c.track is not None else "")
        cv2.putText(out, text, (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, COLOURS[kind], 1,
                    cv2.LINE_AA)
    return out


class FrameProcessor:
    """Detect, decide and anonymize (or draw) one frame; returns the output pixels and the report entry."""

    def __init__(self, detectors: list[Detector], thresholds: Thresholds, settings, generator: WindowGenerator | None,
                 show_detections: bool = False, person_maps: InstanceIdsIndex | None = None) -> None:
        self.detectors = detectors
        self.person_maps = person_maps  # --instance_ids: paint GAN persons in their own shape
        self.thresholds = thresholds
        self.settings = settings
        self.generator = generator
        self.show_detections = show_detections

    def __call__(self, image: np.ndarray, name: str, index: int | None = None,
                 tracker: IoUTracker | None = None) -> tuple[np.ndarray, dict]:
        frame = Frame(image, name, index)
        found = [(detector, detector.detect([frame])[0]) for detector in self.detectors]
        chosen = candidates(found, self.thresholds, tracker, image.shape[1], image.shape[0])
        entry = {"detections": sum(len(dets) for _, dets in found)}
        notes = [note for detector, dets in found if (note := detector.note(dets))]
        if notes:
            entry["warning"] = "; ".join(notes)
        if self.show_detections:
            entry["persons"] = [{"index": c.index, "label": c.detection.label, "box": list(c.person.box),
                                 "would_get": "traditional" if c.person.forced else self.settings.method,
                                 **({"reason": c.person.forced} if c.person.forced else {}), **c.extra()}
                                for c in chosen]
            return draw(image, chosen), entry
        seed_name = name if index is None else f"{name}#{index}"
        person_map = None
        if self.person_maps is not None:
            person_map = self.person_maps.person_map(name, (image.shape[1], image.shape[0]))
            if person_map is None:
                entry["warning"] = "; ".join(filter(None, [entry.get("warning"), (
                    f"no instance-id map for this frame under {self.person_maps.root}: whole boxes painted")]))
        result, records = anonymize_frame(image, [(c.index, c.person) for c in chosen], self.settings,
                                          self.generator, seed_name, person_map)
        extras = {c.index: c.extra() for c in chosen}
        for record in records:
            record.update(extras[record["index"]])
        entry["persons"] = records
        return result, entry
