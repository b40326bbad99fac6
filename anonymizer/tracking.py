"""Linking detections over video frames, so one person keeps one track id (and one synthetic appearance).

An IoU tracker with a constant-velocity prediction per track (an alpha-beta filter, the steady-state form of a
Kalman filter with a constant-velocity model): each frame, every live track predicts its box (last box moved by the
smoothed per-frame motion of its centre, size kept), detections of the same label are matched to predictions by
the assignment that maximizes total IoU (Hungarian, scipy), pairs below ``min_iou`` are not matched; a matched
track takes the detected box and updates its velocity, an unmatched detection starts a new track, and a track
unmatched for more than ``max_misses`` frames ends. An unmatched live track is reported as *coasting* at its
predicted box: the anonymizer still covers that box (with a traditional method), so a person the detector misses
for a few frames is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .detection import Detection, box_iou_matrix


@dataclass
class Track:
    identity: int
    box: np.ndarray  # x1, y1, x2, y2
    velocity: np.ndarray  # per-frame change of the four coordinates
    label: str
    misses: int = 0
    matches: int = 0

    def predicted(self) -> np.ndarray:
        """The box moved by the smoothed motion of its centre, its size kept: a detector's size jitter must not
        make a coasting box shrink away from the person it covers."""
        shift_x, shift_y = (self.velocity[0] + self.velocity[2]) / 2, (self.velocity[1] + self.velocity[3]) / 2
        return self.box + np.array([shift_x, shift_y, shift_x, shift_y])


@dataclass(frozen=True)
class Coasting:
    identity: int
    box: tuple[float, float, float, float]
    label: str
    misses: int


class IoUTracker:
    def __init__(self, min_iou: float = 0.3, max_misses: int = 5, velocity_gain: float = 0.5) -> None:
        self.min_iou = min_iou
        self.max_misses = max_misses
        self.velocity_gain = velocity_gain
        self.tracks: list[Track] = []
        self.next_identity = 0

    def update(self, detections: list[Detection], width: int, height: int) -> tuple[list[int], list[Coasting]]:
        """Track ids for the detections (same order), and the live tracks not detected in this frame."""
        identities = [-1] * len(detections)
        predictions = np.asarray([t.predicted() for t in self.tracks], dtype=np.float64).reshape(-1, 4)
        boxes = np.asarray([d.box for d in detections], dtype=np.float64).reshape(-1, 4)
        matched_tracks: set[int] = set()
        if len(self.tracks) and len(detections):
            iou = box_iou_matrix(boxes, predictions)
            same_label = np.asarray([[d.label == t.label for t in self.tracks] for d in detections])
            iou = np.where(same_label, iou, 0.0)
            for d, t in zip(*linear_sum_assignment(-iou), strict=True):
                if iou[d, t] >= self.min_iou:
                    track = self.tracks[t]
                    motion = boxes[d] - track.box
                    gain = 1.0 if track.matches == 0 else self.velocity_gain  # the first motion is all we know
                    track.velocity = gain * motion + (1 - gain) * track.velocity
                    track.matches += 1
                    track.box = boxes[d]
                    track.misses = 0
                    identities[d] = track.identity
                    matched_tracks.add(t)
        coasting = []
        survivors = []
        for t, track in enumerate(self.tracks):
            if t not in matched_tracks:
                track.box = track.predicted()
                track.misses += 1
                x1, y1, x2, y2 = track.box
                visible = x2 > 0 and y2 > 0 and x1 < width and y1 < height and x2 > x1 and y2 > y1
                if track.misses > self.max_misses or not visible:
                    continue
                coasting.append(Coasting(track.identity, tuple(float(v) for v in track.box), track.label,
                                         track.misses))
            survivors.append(track)
        self.tracks = survivors
        for d, detection in enumerate(detections):
            if identities[d] < 0:
                identities[d] = self.next_identity
                self.tracks.append(Track(self.next_identity, boxes[d], np.zeros(4), detection.label))
                self.next_identity += 1
        return identities, coasting
