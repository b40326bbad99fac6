"""Anonymity metrics on constructed distance matrices with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.anonymity import (
    calibrate_threshold,
    cosine_distance_matrix,
    rank_k_and_map,
    roc_curve,
    shared_identity_rate,
    thesis_rates,
)

T = 0.22

# Row i = anonymized crop i against original j.
ANON_TO_ORIG = np.array([
    [0.10, 0.30, 0.40, 0.50],  # own 0.10 < t: not anonymized; own is nearest: re-identified
    [0.05, 0.25, 0.60, 0.70],  # own 0.25: anonymized; original 0 is nearer: not re-identified
    [0.50, 0.30, 0.30, 0.90],  # own ties with original 1 at 0.30: counts as re-identified
    [0.40, 0.40, 0.40, 0.22],  # own exactly at t: not "< t"; nearest: re-identified
])
ANON_TO_TRAIN = np.array([
    [0.50, 0.21, 0.90],  # 0.21 < t
    [0.22, 0.30, 0.40],  # 0.22 is not < t
    [0.10, 0.10, 0.10],
    [0.90, 0.80, 0.70],
])
# Symmetric, zero diagonal: pairs (0,1) 0.1, (0,2) 0.5, (0,3) 0.6, (1,2) 0.4, (1,3) 0.3, (2,3) 0.22.
GEN_TO_GEN = np.array([
    [0.0, 0.1, 0.5, 0.6],
    [0.1, 0.0, 0.4, 0.3],
    [0.5, 0.4, 0.0, 0.22],
    [0.6, 0.3, 0.22, 0.0],
])


def test_cosine_distance_matrix():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    b = np.array([[1.0, 1.0], [0.0, -3.0]])
    expected = np.array([[1 - 1 / np.sqrt(2), 1.0], [1 - 1 / np.sqrt(2), 2.0]])
    np.testing.assert_allclose(cosine_distance_matrix(a, b), expected, atol=1e-12)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 8))
    d = cosine_distance_matrix(x, x)
    np.testing.assert_allclose(np.diagonal(d), 0, atol=1e-12)
    np.testing.assert_allclose(d, d.T, atol=1e-12)
    assert d.min() >= 0 and d.max() <= 2


def test_thesis_rates_hand_computed():
    rates = thesis_rates(ANON_TO_ORIG, ANON_TO_TRAIN, T, dist_between_samples=GEN_TO_GEN)
    assert rates["not_anonymized"] == {"rate": 0.25, "count": 1, "n": 4}
    assert rates["recall_at_rank_1"] == {"rate": 0.75, "count": 3, "n": 4}
    assert rates["similar_to_train"] == {"rate": 0.5, "count": 2, "n": 4}
    assert rates["shared_identity"] == {"rate": 0.5, "count": 2, "n": 4}
    # Without the optional matrices, only the rates they allow.
    assert set(thesis_rates(ANON_TO_ORIG, None, T)) == {"not_anonymized", "recall_at_rank_1"}


def test_shared_identity_excludes_self_pairs():
    # Including the zero diagonal would flag every crop.
    assert shared_identity_rate(GEN_TO_GEN, T)["count"] == 2
    assert shared_identity_rate(GEN_TO_GEN, 0.05)["count"] == 0
    assert shared_identity_rate(GEN_TO_GEN, 10.0)["count"] == 4


def test_thesis_rates_reject_bad_shapes():
    with pytest.raises(ValueError, match="square"):
        thesis_rates(ANON_TO_ORIG[:, :3], ANON_TO_TRAIN, T)
    with pytest.raises(ValueError, match="n×m"):
        thesis_rates(ANON_TO_ORIG, ANON_TO_TRAIN[:3], T)


def test_rank_k_and_map_hand_computed_with_ties_and_a_query_without_match():
    query_ids = ["a", "b", "c", "d"]  # "d" is not in the gallery: excluded
    gallery_ids = ["a", "a", "b", "c", "e"]
    dist = np.array([
        [0.3, 0.1, 0.2, 0.4, 0.5],  # hits at ranks 1 and 3: AP (1 + 2/3) / 2 = 5/6
        [0.1, 0.2, 0.3, 0.05, 0.6],  # hit at rank 4: AP 1/4
        [0.2, 0.2, 0.2, 0.2, 0.1],  # the true match ties with 3 others at 0.2: ranks 2nd, AP 1/2
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ])
    result = rank_k_and_map(dist, query_ids, gallery_ids, ks=(1, 2, 5))
    assert result["n_queries"] == 3 and result["n_excluded"] == 1
    assert result["rank_1"] == pytest.approx(1 / 3)
    assert result["rank_2"] == pytest.approx(2 / 3)
    assert result["rank_5"] == pytest.approx(1.0)
    assert result["mAP"] == pytest.approx(19 / 36)
    assert result["cmc"] == pytest.approx([1 / 3, 2 / 3, 2 / 3, 1.0, 1.0])


def test_rank_k_default_ks_and_no_valid_query():
    result = rank_k_and_map(np.eye(3), [0, 1, 2], [0, 1, 2])
    assert set(result) >= {"rank_1", "rank_5", "mAP"}
    # identity distances: own original at distance 1, the others at 0 → own is last
    assert result["rank_1"] == 0.0 and result["mAP"] == pytest.approx(1 / 3)
    empty = rank_k_and_map(np.zeros((2, 2)), [0, 1], [2, 3])
    assert empty["n_queries"] == 0 and empty["n_excluded"] == 2 and np.isnan(empty["mAP"])


def test_camera_filter_drops_same_identity_same_camera_gallery_items():
    """Market-1501's protocol by hand: the same person seen by the query's camera is neither a hit nor a miss;
    other people seen by that camera stay as negatives."""
    gallery_ids = ["a", "a", "b", "a"]
    gallery_cams = [1, 2, 1, 3]
    dist = np.array([
        [0.0, 0.4, 0.2, 0.6],  # query a/cam 1: a@cam1 (0.0) dropped; order b 0.2, a 0.4, a 0.6 -> first hit at
    ])                         # rank 2; AP = (1/2 + 2/3) / 2 = 7/12
    result = rank_k_and_map(dist, ["a"], gallery_ids, ks=(1, 2), query_cams=[1], gallery_cams=gallery_cams)
    assert result["rank_1"] == 0.0 and result["rank_2"] == 1.0
    assert result["mAP"] == pytest.approx(7 / 12)
    # Without cameras the dropped item is a perfect first hit: AP = (1 + 2/3 + 3/4) / 3.
    plain = rank_k_and_map(dist, ["a"], gallery_ids, ks=(1,))
    assert plain["rank_1"] == 1.0 and plain["mAP"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)


def test_camera_filter_can_leave_a_query_without_valid_match():
    # Query 0's only true match is in its own camera: excluded. Query 1 is its own gallery item (all-vs-all):
    # its self-match is dropped, the other crop of "y" is found at rank 1.
    dist = np.array([[0.1, 0.5, 0.3], [0.9, 0.0, 0.2]])
    result = rank_k_and_map(dist, ["x", "y"], ["x", "y", "y"], ks=(1,), query_cams=[4, 5],
                            gallery_cams=[4, 5, 6])
    assert result["n_queries"] == 1 and result["n_excluded"] == 1
    assert result["rank_1"] == 1.0 and result["mAP"] == 1.0
    with pytest.raises(ValueError, match="together"):
        rank_k_and_map(dist, ["x", "y"], ["x", "y", "y"], query_cams=[4, 5])


def test_ties_match_last_counts_ties_against_the_model():
    # The true match ties with 3 others at 0.2 behind one nearer item: ranked 2nd (match_first) or 5th.
    dist = np.array([[0.2, 0.2, 0.2, 0.2, 0.1]])
    ids = ["b", "c", "d", "a", "e"]
    first = rank_k_and_map(dist, ["a"], ids, ks=(1, 2, 5))
    last = rank_k_and_map(dist, ["a"], ids, ks=(1, 2, 5), ties="match_last")
    assert (first["rank_2"], first["mAP"]) == (1.0, pytest.approx(1 / 2))
    assert (last["rank_2"], last["rank_5"], last["mAP"]) == (0.0, 1.0, pytest.approx(1 / 5))
    # Collapsed features (all distances equal) are no evidence of re-identification under match_last.
    collapsed = rank_k_and_map(np.zeros((2, 4)), [0, 1], [0, 1, 2, 3], ks=(1,), ties="match_last")
    assert collapsed["rank_1"] == 0.0 and collapsed["mAP"] == pytest.approx(1 / 4)
    with pytest.raises(ValueError, match="ties"):
        rank_k_and_map(dist, ["a"], ids, ties="random")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from(["match_first", "match_last"]))
def test_rank_and_map_match_a_brute_force_loop(seed: int, with_cams: bool, ties: str):
    rng = np.random.default_rng(seed)
    q, g = rng.integers(1, 6), rng.integers(1, 8)
    dist = rng.integers(0, 4, size=(q, g)) / 4.0  # coarse values: many ties
    q_ids, g_ids = rng.integers(0, 4, size=q), rng.integers(0, 4, size=g)
    q_cams, g_cams = rng.integers(0, 2, size=q), rng.integers(0, 2, size=g)
    cams = {"query_cams": q_cams, "gallery_cams": g_cams} if with_cams else {}
    result = rank_k_and_map(dist, q_ids, g_ids, ks=(1, 3), ties=ties, **cams)
    firsts, aps = [], []
    for i in range(q):
        kept = [j for j in range(g) if not (with_cams and g_ids[j] == q_ids[i] and g_cams[j] == q_cams[i])]
        match = {j: g_ids[j] == q_ids[i] for j in kept}
        if not any(match.values()):
            continue
        # rank of a gallery item = items strictly nearer + tied items ordered by the tie rule
        order = sorted(kept, key=lambda j: (dist[i, j], (not match[j]) if ties == "match_first" else match[j]))
        hits = [bool(match[j]) for j in order]
        firsts.append(hits.index(True))
        aps.append(np.mean([sum(hits[:p + 1]) / (p + 1) for p, h in enumerate(hits) if h]))
    assert result["n_queries"] == len(firsts)
    if firsts:
        assert result["rank_1"] == pytest.approx(np.mean([f < 1 for f in firsts]))
        assert result["rank_3"] == pytest.approx(np.mean([f < 3 for f in firsts]))
        assert result["mAP"] == pytest.approx(np.mean(aps))


def test_calibrate_threshold_separable():
    result = calibrate_threshold([0.1, 0.2, 0.15], [0.4, 0.5, 0.6, 0.45])
    assert result["threshold"] == pytest.approx(0.3)  # midpoint of the gap 0.2 .. 0.4
    assert result["f1"] == 1.0 and result["precision"] == 1.0 and result["recall"] == 1.0
    assert result["n_same"] == 3 and result["n_diff"] == 4
    # 7 distinct values: a cut below all, 6 between them, one above all
    assert len(result["thresholds"]) == len(result["f1s"]) == 8


def test_calibrate_threshold_overlapping():
    same = [0.1, 0.2, 0.3, 0.5]
    diff = [0.25, 0.4, 0.6, 0.7, 0.8]
    # F1 at each cut: .4 (t=.15), .667 (.225), .571 (.275), .75 (.35), .667 (.45), .8 (.55), .727, .667, .615
    result = calibrate_threshold(same, diff)
    assert result["threshold"] == pytest.approx(0.55)
    assert result["f1"] == pytest.approx(0.8)
    assert result["precision"] == pytest.approx(4 / 6) and result["recall"] == 1.0
    np.testing.assert_allclose(result["f1s"][:4], [0, 0.4, 2 / 3, 4 / 7])


def test_calibrate_threshold_tied_values_across_classes():
    result = calibrate_threshold([0.2], [0.2, 0.5])
    assert result["threshold"] == pytest.approx(0.35) and result["f1"] == pytest.approx(2 / 3)


def test_roc_curve():
    fpr, tpr, auc = roc_curve([0.1, 0.2], [0.5, 0.6])
    assert auc == pytest.approx(1.0)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    assert roc_curve([0.5, 0.6], [0.1, 0.2])[2] == pytest.approx(0.0)
    assert roc_curve([0.3, 0.3], [0.3])[2] == pytest.approx(0.5)
    assert roc_curve([0.1, 0.3], [0.2, 0.4])[2] == pytest.approx(0.75)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=8), st.lists(st.integers(0, 5), min_size=1, max_size=8))
def test_roc_auc_is_the_pairwise_probability(same: list[int], diff: list[int]):
    s, d = np.array(same, float)[:, None], np.array(diff, float)[None, :]
    expected = np.mean((s < d) + 0.5 * (s == d))
    assert roc_curve(same, diff)[2] == pytest.approx(expected)
