"""Temporal stability: the change inside a tracked box between consecutive frames, from an anonymize.py report."""

from __future__ import annotations

import numpy as np

from evaluation.temporal_stability import box_change, track_boxes


def test_change_inside_tracked_boxes_follows_the_box_and_the_report():
    frames = [np.zeros((40, 60, 3), dtype=np.uint8) for _ in range(3)]
    frames[0][10:30, 10:20] = 100
    frames[1][10:30, 14:24] = 130  # the person moved 4 px right and got 30 brighter
    frames[2][10:30, 18:28] = 130  # moved again, same look
    report = {"frames": [{"video": "clip.mp4", "frames": [
        {"frame": 5, "persons": [{"track": 7, "box_in_frame": [10, 10, 20, 30]}]},
        {"frame": 6, "persons": [{"track": 7, "box_in_frame": [14, 10, 24, 30]}, {"index": 1},
                                 {"track": 8, "box_in_frame": [0, 0, 5, 5], "coasting": True}]},
        {"frame": 7, "persons": [{"track": 7, "box_in_frame": [18, 10, 28, 30]}]}]}]}
    tracks, frame_of = track_boxes(report)
    assert tracks == {7: {0: (10, 10, 20, 30), 1: (14, 10, 24, 30), 2: (18, 10, 28, 30)}} and frame_of == [5, 6, 7]
    result = box_change(frames, tracks)
    assert result == {"mean_abs_change": 15.0, "pairs": 2, "tracks": 1}  # (30 + 0) / 2
    shifted = [np.zeros_like(frames[0])] * 5 + frames  # the input video, when the output started at frame 5
    assert box_change(shifted, tracks, frame_of) == result
