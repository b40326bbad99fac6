"""The tracker comparison's scoring: coverage, identity switches and extra boxes against known identities."""

from __future__ import annotations

import numpy as np

from scripts import compare_trackers as ct


def test_scoring_counts_covered_people_switches_and_extra_boxes():
    truth, _ = ct.simulate(seed=0, frames=30)
    perfect = [[(person, box) for person, box in frame.items()] for frame in truth]
    assert ct.score(truth, perfect) == {"covered": 1.0, "id_switches_per_100": 0.0, "extra_boxes_per_frame": 0.0}
    person_frames = sum(len(frame) for frame in truth)
    # Every person changes id once half-way, one far-away extra box per frame, one person never covered.
    hidden = next(iter(truth[0]))
    relabelled = [[((person, k >= 15), box) for person, box in frame.items() if person != hidden]
                  + [("extra", np.array([-500.0, -500.0, -400.0, -300.0]))] for k, frame in enumerate(truth)]
    switched = sum(1 for p in {p for frame in truth for p in frame} - {hidden}
                   if any(p in f for f in truth[:15]) and any(p in f for f in truth[15:]))
    scores = ct.score(truth, relabelled)
    assert scores["covered"] == (person_frames - sum(hidden in frame for frame in truth)) / person_frames
    assert scores["id_switches_per_100"] == 100 * switched / person_frames
    assert scores["extra_boxes_per_frame"] == 1.0


def test_our_tracker_follows_the_simulated_walkers():
    truth, detected = ct.simulate(seed=1, frames=60)
    scores = ct.score(truth, ct.run_ours(detected))
    assert scores["covered"] > 0.95 and scores["id_switches_per_100"] < 2
