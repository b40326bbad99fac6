"""Anonymity and re-identification metrics on distance matrices
(docs/differences_from_original.md#distance-matrices). Pure NumPy.

All functions take full distance matrices (no per-pair Python loops) and return plain dicts of Python
numbers and arrays, ready for a JSON report. Distances are cosine distances of re-ID features unless a caller
says otherwise; nothing is rounded here (the original rounded to 4 decimals, which only adds ties).

Conventions:

- a distance strictly below the threshold ``t`` means "same person" (as the thesis: ``d < t``);
- ties are resolved in favour of the true match ("privacy-conservative": an anonymized crop whose own
  original ties with another original counts as re-identified); the original notebook broke ties by list
  order, which is arbitrary;
- each rate is reported as ``{"rate", "count", "n"}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cosine_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - cos(a_i, b_j)`` for feature rows ``a`` (n×D) and ``b`` (m×D): an n×m float64 matrix.

    Rows are L2-normalised here (zero rows stay zero, giving distance 1). Values are clipped to [0, 2] so that
    rounding cannot produce a negative self-distance.
    """
    a_n, b_n = _unit_rows(a), _unit_rows(b)
    return np.clip(1.0 - a_n @ b_n.T, 0.0, 2.0)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _rate(mask: np.ndarray) -> dict[str, float | int]:
    n = int(mask.size)
    count = int(np.count_nonzero(mask))
    return {"rate": count / n if n else float("nan"), "count": count, "n": n}


def _square(dist: np.ndarray, what: str) -> np.ndarray:
    dist = np.asarray(dist, dtype=np.float64)
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1]:
        raise ValueError(f"{what} must be a square n×n matrix, got shape {dist.shape}")
    return dist


def thesis_rates(dist_anon_to_orig: np.ndarray, dist_anon_to_train: np.ndarray | None, threshold: float,
                 dist_between_samples: np.ndarray | None = None) -> dict[str, dict[str, float | int]]:
    """The thesis's anonymity rates (lower is better for all).

    ``dist_anon_to_orig``: n×n, row i = anonymized crop i against original j (diagonal = same person).
    ``dist_anon_to_train``: n×m against the training originals (None to skip).

    - ``not_anonymized``: d(anon_i, orig_i) < t;
    - ``recall_at_rank_1``: orig_i is the nearest original to anon_i (ties count as hits);
    - ``similar_to_train``: min_j d(anon_i, train_j) < t;
    - ``shared_identity`` (only with ``dist_between_samples``): see :func:`shared_identity_rate`.
    """
    d = _square(dist_anon_to_orig, "dist_anon_to_orig")
    own = np.diagonal(d)
    rates = {
        "not_anonymized": _rate(own < threshold),
        "recall_at_rank_1": _rate(own <= d.min(axis=1)),
    }
    if dist_anon_to_train is not None:
        train = np.asarray(dist_anon_to_train, dtype=np.float64)
        if train.ndim != 2 or train.shape[0] != d.shape[0] or train.shape[1] == 0:
            raise ValueError(f"dist_anon_to_train must be n×m with n = {d.shape[0]}, m > 0; got {train.shape}")
        rates["similar_to_train"] = _rate(train.min(axis=1) < threshold)
    if dist_between_samples is not None:
        rates["shared_identity"] = shared_identity_rate(dist_between_samples, threshold)
    return rates


def shared_identity_rate(dist_between_samples: np.ndarray, threshold: float) -> dict[str, float | int]:
    """Fraction of generated crops with **another** generated crop closer than ``threshold`` (the thesis's diversity
    rate).

    ``dist_between_samples``: n×n distances among the generated crops of a split; the diagonal (self-pairs,
    distance 0) is excluded. A diversity measure: low means the generator does not reuse one identity.
    """
    d = _square(dist_between_samples, "dist_between_samples").copy()
    np.fill_diagonal(d, np.inf)
    return _rate((d < threshold).any(axis=1))


def rank_k_and_map(dist_query_gallery: np.ndarray, query_ids: Sequence | np.ndarray,
                   gallery_ids: Sequence | np.ndarray, ks: Sequence[int] = (1, 5),
                   query_cams: Sequence | np.ndarray | None = None, gallery_cams: Sequence | np.ndarray | None = None,
                   ties: str = "match_first") -> dict[str, object]:
    """CMC rank-k and mean average precision (the standard re-ID protocol, single gallery shot or more).

    Gallery entries with the query's id are its true matches. With cameras (``query_cams`` and ``gallery_cams``
    together), gallery entries of the query's id seen by the query's camera are dropped for that query (they
    are neither matches nor mistakes: Market-1501's protocol; it also drops a query's own image when the query
    set is the gallery). A query with no true match left is excluded from both metrics and counted in
    ``n_excluded``.
    ``ties``: at equal distance, true matches rank first (``"match_first"``, the default: privacy-conservative
    for anonymity, see the module docstring) or last (``"match_last"``: conservative when the claim is how well
    a re-ID model separates people; a model whose features collapse then scores 0, not 1).
    Returns ``{"rank_<k>": float, ..., "mAP": float, "cmc": list (ranks 1..max k), "n_queries",
    "n_excluded"}``.
    """
    if ties not in ("match_first", "match_last"):
        raise ValueError(f"ties must be 'match_first' or 'match_last', got {ties!r}")
    d = np.asarray(dist_query_gallery, dtype=np.float64)
    q_ids, g_ids = np.asarray(query_ids), np.asarray(gallery_ids)
    if d.shape != (q_ids.size, g_ids.size):
        raise ValueError(f"distance matrix {d.shape} does not match {q_ids.size} queries × {g_ids.size} gallery")
    matches = q_ids[:, None] == g_ids[None, :]
    if (query_cams is None) != (gallery_cams is None):
        raise ValueError("give query_cams and gallery_cams together")
    if query_cams is not None:
        q_cams, g_cams = np.asarray(query_cams), np.asarray(gallery_cams)
        if q_cams.shape != q_ids.shape or g_cams.shape != g_ids.shape:
            raise ValueError(f"cameras ({q_cams.size}, {g_cams.size}) do not match ids ({q_ids.size}, {g_ids.size})")
        dropped = matches & (q_cams[:, None] == g_cams[None, :])
        matches = matches & ~dropped
        d = np.where(dropped, np.inf, d)  # after every kept entry: counts neither as a hit nor before one
    valid = matches.any(axis=1)
    d, matches = d[valid], matches[valid]
    max_k = max(ks) if ks else 1
    result: dict[str, object] = {"n_queries": int(valid.sum()), "n_excluded": int((~valid).sum())}
    if not valid.any():
        result.update({f"rank_{k}": float("nan") for k in ks})
        result.update({"mAP": float("nan"), "cmc": [float("nan")] * max_k})
        return result
    # Sort each row by distance, then by the tie rule (lexsort: the last key is the primary one).
    order = np.lexsort((~matches if ties == "match_first" else matches, d), axis=-1)
    hits = np.take_along_axis(matches, order, axis=1)
    first_hit = hits.argmax(axis=1)  # 0-based rank of the best true match
    cmc = [float(np.mean(first_hit < k)) for k in range(1, max_k + 1)]
    result.update({f"rank_{k}": float(np.mean(first_hit < k)) for k in ks})
    # AP = mean over the true matches of the precision at their positions.
    positions = np.arange(1, hits.shape[1] + 1)
    precision_at = np.cumsum(hits, axis=1) / positions
    ap = (precision_at * hits).sum(axis=1) / hits.sum(axis=1)
    result.update({"mAP": float(ap.mean()), "cmc": cmc})
    return result


def _as_1d(x: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError(f"{what} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} holds NaN or infinite distances")
    return arr


def calibrate_threshold(same_person_distances: Sequence[float] | np.ndarray,
                        different_person_distances: Sequence[float] | np.ndarray) -> dict[str, object]:
    """The F1-maximising "same person" threshold (the thesis's sweep, re-done over every distinct cut;
    docs/differences_from_original.md#threshold).

    A pair is predicted "same" when d < t. Candidate thresholds are the midpoints between consecutive sorted
    unique distances (every distinct split of the data, with the largest margin on both sides), plus one
    below the minimum (nothing predicted same) and one above the maximum (everything same). The first
    maximum of F1 wins. The original swept 20 rounded values with d ≤ t instead; midpoints give the same
    split with a threshold that does not sit on a data point.

    Returns threshold, f1, precision, recall, n_same, n_diff, and the sweep arrays ``thresholds``, ``f1s``,
    ``precisions``, ``recalls`` (for a plot).
    """
    same = np.sort(_as_1d(same_person_distances, "same_person_distances"))
    diff = np.sort(_as_1d(different_person_distances, "different_person_distances"))
    values = np.unique(np.concatenate([same, diff]))
    spacing = float(np.min(np.diff(values))) if values.size > 1 else 1.0
    thresholds = np.concatenate([[values[0]], (values[:-1] + values[1:]) / 2, [values[-1] + spacing / 2]])
    tp = np.searchsorted(same, thresholds, side="left").astype(np.float64)  # same pairs with d < t
    fp = np.searchsorted(diff, thresholds, side="left").astype(np.float64)
    fn = same.size - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = tp / same.size
        f1 = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    best = int(np.argmax(f1))
    return {
        "threshold": float(thresholds[best]), "f1": float(f1[best]), "precision": float(precision[best]),
        "recall": float(recall[best]), "n_same": int(same.size), "n_diff": int(diff.size),
        "thresholds": thresholds, "f1s": f1, "precisions": precision, "recalls": recall,
    }


def roc_curve(same: Sequence[float] | np.ndarray,
              diff: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """ROC of "same person when d ≤ t" over all thresholds: (fpr, tpr, auc), from (0, 0) to (1, 1).

    Tied distances move both rates at once (a diagonal step), so the AUC equals
    P(d_same < d_diff) + ½ P(d_same = d_diff).
    """
    same_s = np.sort(_as_1d(same, "same"))
    diff_s = np.sort(_as_1d(diff, "diff"))
    values = np.unique(np.concatenate([same_s, diff_s]))
    tpr = np.concatenate([[0.0], np.searchsorted(same_s, values, side="right") / same_s.size])
    fpr = np.concatenate([[0.0], np.searchsorted(diff_s, values, side="right") / diff_s.size])
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return fpr, tpr, auc
