"""Our IoU tracker (anonymizer/tracking.py) against motpy's Kalman tracker on simulated walkers with known identities.

    python scripts/compare_trackers.py [--seeds 10] [--frames 120] [--out trackers.json]

motpy is not a dependency of the project; this measurement needs it on the path (``pip install --no-deps
motpy==0.0.10 filterpy==2.0.0``, both MIT).

Each sequence: ``WALKERS`` people on a 768×576 frame walking at 0.5–3 px per frame (some crossing), 60–160 px tall,
entering and leaving the frame; a simulated detector reports each visible person with probability 0.85 (0.3 while
another person in front covers half of it), its box coordinates jittered by 4 % of the box size, plus on average
0.2 false boxes per frame. Every tracker gets the same detections. What the anonymizer would cover in a frame is
each tracker's output: for ours the detections with their track ids plus the coasting boxes, for motpy its active
tracks. Per person and frame (matched one to one by IoU ≥ 0.5, Hungarian):

- covered: the fraction of visible person-frames with an output box (an uncovered person would be shown);
- id switches per 100 person-frames: how often a person's matched track id changes (a new GAN look each time);
- extra boxes per frame: output boxes that match nobody (anonymized background).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from any folder
    sys.path.insert(0, str(ROOT))

from anonymizer.detection import Detection, box_iou_matrix  # noqa: E402
from anonymizer.tracking import IoUTracker  # noqa: E402
from util.cli import number  # noqa: E402
from util.fileio import atomic_write_json  # noqa: E402

WIDTH, HEIGHT, WALKERS = 768, 576, 10


def simulate(seed: int, frames: int) -> tuple[list[dict[int, np.ndarray]], list[list[np.ndarray]]]:
    """Per frame: {person: visible true box} and the detector's boxes."""
    rng = np.random.default_rng(seed)
    heights = rng.uniform(60, 160, WALKERS)
    starts = np.stack([rng.uniform(-100, WIDTH + 100, WALKERS), rng.uniform(0.3 * HEIGHT, 0.9 * HEIGHT, WALKERS)], 1)
    speeds = rng.uniform(0.5, 3.0, WALKERS) * rng.choice([-1, 1], WALKERS)
    truth, detected = [], []
    for k in range(frames):
        feet = starts + np.stack([speeds * k, 0.1 * speeds * k], 1)
        boxes = {p: np.array([feet[p, 0] - 0.2 * heights[p], feet[p, 1] - heights[p], feet[p, 0] + 0.2 * heights[p],
                              feet[p, 1]]) for p in range(WALKERS)}
        visible = {p: b for p, b in boxes.items() if b[2] > 0 and b[0] < WIDTH and b[3] > 0 and b[1] < HEIGHT}
        truth.append(visible)
        found = []
        for p, box in visible.items():
            side = box[2:] - box[:2]
            covered = any(other[3] > box[3] and _inside_fraction(box, other) > 0.5 for q, other in visible.items()
                          if q != p)  # a person lower in the picture is nearer: in front
            if rng.random() < (0.3 if covered else 0.85):
                found.append(box + rng.normal(0, 0.04, 4) * np.tile(side, 2))
        for _ in range(rng.poisson(0.2)):
            x, y, h = rng.uniform(0, WIDTH - 60), rng.uniform(0, HEIGHT - 150), rng.uniform(60, 150)
            found.append(np.array([x, y, x + 0.4 * h, y + h]))
        detected.append(found)
    return truth, detected


def _inside_fraction(box: np.ndarray, other: np.ndarray) -> float:
    w = max(min(box[2], other[2]) - max(box[0], other[0]), 0.0)
    h = max(min(box[3], other[3]) - max(box[1], other[1]), 0.0)
    return w * h / max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)


def run_ours(detected: list[list[np.ndarray]]) -> list[list[tuple[object, np.ndarray]]]:
    tracker, out = IoUTracker(), []
    for boxes in detected:
        detections = [Detection(tuple(float(v) for v in b), 0.9) for b in boxes]
        ids, coasting = tracker.update(detections, WIDTH, HEIGHT)
        out.append([(i, np.asarray(d.box)) for i, d in zip(ids, detections, strict=True)]
                   + [(c.identity, np.asarray(c.box)) for c in coasting])
    return out


def run_motpy(detected: list[list[np.ndarray]], max_staleness: float | None) -> list[list[tuple[object, np.ndarray]]]:
    from motpy import Detection as MotpyDetection
    from motpy import MultiObjectTracker

    kwargs = {} if max_staleness is None else {"max_staleness": max_staleness}
    tracker, out = MultiObjectTracker(dt=1.0, tracker_kwargs=kwargs), []
    for boxes in detected:
        tracker.step([MotpyDetection(box=b, score=0.9) for b in boxes])
        out.append([(t.id, np.asarray(t.box)) for t in tracker.active_tracks()])
    return out


def score(truth: list[dict[int, np.ndarray]], outputs: list[list[tuple[object, np.ndarray]]]) -> dict[str, float]:
    person_frames = covered = switches = extra = 0
    last_id: dict[int, object] = {}
    for visible, output in zip(truth, outputs, strict=True):
        people = list(visible)
        person_frames += len(people)
        matched = 0
        if people and output:
            iou = box_iou_matrix(np.stack([visible[p] for p in people]), np.stack([b for _, b in output]))
            for row, column in zip(*linear_sum_assignment(-iou), strict=True):
                if iou[row, column] >= 0.5:
                    matched += 1
                    identity = output[column][0]
                    person = people[row]
                    switches += person in last_id and last_id[person] != identity
                    last_id[person] = identity
        covered += matched
        extra += len(output) - matched
    return {"covered": covered / person_frames, "id_switches_per_100": 100 * switches / person_frames,
            "extra_boxes_per_frame": extra / len(truth)}


TRACKERS = {
    "ours (IoU + constant velocity, coasting 5 frames)": run_ours,
    "motpy 0.0.10 defaults (Kalman, max_staleness 12)": lambda d: run_motpy(d, None),
    "motpy 0.0.10, max_staleness 5": lambda d: run_motpy(d, 5),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/compare_trackers.py", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=number(int, minimum=1), default=10, help="simulated sequences")
    parser.add_argument("--frames", type=number(int, minimum=2), default=120, help="frames per sequence")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    try:
        import motpy  # noqa: F401
    except ImportError:
        print("error: motpy is not installed (pip install --no-deps motpy==0.0.10 filterpy==2.0.0)", file=sys.stderr)
        return 2
    sequences = [simulate(seed, args.frames) for seed in range(args.seeds)]
    results = {}
    for name, track in TRACKERS.items():
        scores = [score(truth, track(detected)) for truth, detected in sequences]
        results[name] = {key: round(float(np.mean([s[key] for s in scores])), 4) for key in scores[0]}
    command = " ".join(["python scripts/compare_trackers.py", *(sys.argv[1:] if argv is None else argv)])
    report = {"sequences": args.seeds, "frames": args.frames, "walkers": WALKERS, "results": results,
              "command": command}
    print(json.dumps(report, indent=2))
    if args.out:
        atomic_write_json(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
