"""Temporal stability of an anonymized video: how much a tracked person's box changes from frame to frame.

    python -m evaluation.temporal_stability --video out.mp4 --report out.report.json [--original clip.mp4]

For every track (``anonymize.py`` reports each person's ``track`` and ``box_in_frame`` per frame) and every pair of
consecutive frames in which it is detected (coasting boxes are left out), the box of the later frame is resized to
the earlier box's size and the mean absolute difference of the two crops is taken (0–255 scale); the result is the
mean over all such pairs. A person who keeps one synthetic appearance changes little (only by motion and pose); one
who is re-generated with new noise every frame flickers and scores high. ``--original`` gives the same number for
the input video at the same boxes: the change that the people's own motion causes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from anonymizer.video import VideoError, ffmpeg_problem
from util.fileio import atomic_write_json


def decode(path: str | Path) -> list[np.ndarray]:
    """Every frame of the video's first video stream (RGB); VideoError when it cannot be read."""
    import av

    try:
        with av.open(str(path)) as container:
            return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    except (av.FFmpegError, IndexError) as error:  # IndexError: no video stream
        raise VideoError(f"cannot be read as a video ({ffmpeg_problem(error)})") from None


Tracks = dict[int, dict[int, tuple[int, int, int, int]]]


def track_boxes(report: dict, method: str | None = None) -> tuple[Tracks, list[int]]:
    """({track: {position in the output video: box}}, the input frame number of each output position) from a
    single-video report: detected people (not coasting tracks), only those given ``method`` if one is named."""
    (video,) = [entry for entry in report["frames"] if isinstance(entry.get("frames"), list)]
    tracks: Tracks = {}
    for position, frame in enumerate(video["frames"]):
        for person in frame.get("persons", []):
            chosen = method is None or person.get("method") == method
            if "track" in person and "box_in_frame" in person and not person.get("coasting") and chosen:
                tracks.setdefault(person["track"], {})[position] = tuple(person["box_in_frame"])
    return tracks, [frame["frame"] for frame in video["frames"]]


def box_change(frames: list[np.ndarray], tracks: Tracks, frame_of: list[int] | None = None) -> dict:
    """Mean change inside tracked boxes between consecutive positions; ``frame_of`` maps a position to its frame
    in ``frames`` (the input video when the output was cut with --start)."""
    changes = []
    for boxes in tracks.values():
        for position, (x1, y1, x2, y2) in sorted(boxes.items()):
            following = boxes.get(position + 1)
            if following is None:
                continue
            now, then = (frame_of[position], frame_of[position + 1]) if frame_of else (position, position + 1)
            a = frames[now][y1:y2, x1:x2].astype(np.float32)
            u1, v1, u2, v2 = following
            b = cv2.resize(frames[then][v1:v2, u1:u2], (x2 - x1, y2 - y1),
                           interpolation=cv2.INTER_AREA).astype(np.float32)
            changes.append(float(np.abs(a - b).mean()))
    return {"mean_abs_change": round(float(np.mean(changes)), 3) if changes else None, "pairs": len(changes),
            "tracks": len(tracks)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.temporal_stability",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", required=True, help="the anonymized video")
    parser.add_argument("--report", required=True, help="its report from anonymize.py (with tracking on)")
    parser.add_argument("--original", default=None, help="the input video, for the change motion alone causes")
    parser.add_argument("--method", default=None,
                        help="only people anonymized by this method in the report (e.g. gan: the ones whose noise "
                             "tracking seeds)")
    parser.add_argument("--out", default=None, help="write the numbers as JSON here")
    args = parser.parse_args(argv)
    try:
        tracks, frame_of = track_boxes(json.loads(Path(args.report).read_text(encoding="utf-8")), args.method)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"error: {args.report}: not a single-video anonymize.py report ({error})", file=sys.stderr)
        return 2
    videos = {"anonymized": args.video, **({"original": args.original} if args.original else {})}
    result = {}
    for name, path in videos.items():
        try:
            result[name] = box_change(decode(path), tracks, frame_of if name == "original" else None)
        except VideoError as error:
            print(f"error: {path}: {error}", file=sys.stderr)
            return 2
        except IndexError:
            print(f"error: {path}: has fewer frames than the report {args.report} lists", file=sys.stderr)
            return 2
    print(json.dumps(result))
    if args.out:
        atomic_write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
