"""Poisson blending of a generated window (``anonymize.py --poisson_blend``).

The generator continues the street inside a box, but its continuation rarely meets the real street exactly at the
box edge, and the box then shows as a lighter or darker rectangle. Poisson image editing (Pérez, Gangnet and
Blake, SIGGRAPH 2003) keeps the generated pixels' gradients inside the replaced region and takes its boundary
values from the real image. Written as a correction: ``generated + m``, with ``m`` harmonic over the replaced
pixels (∇²m = 0 inside) and each edge term closing the seam: ``window[q] − generated[p]`` for an edge pixel p and
its real neighbour q outside. The guidance is the generated gradients *within* the region only; the generator's
own step across the edge (its output just outside the box is its reconstruction of the street) is dropped, so
each edge pixel is pulled toward the real pixel beside it.

Only pixels outside the replaced region enter — the street around the box or around the person's hole, which the
output keeps anyway — so the correction carries no information about the person, and it is smooth, so it adds no
fine detail. It runs at the model's resolution (at most crop × crop unknowns: one sparse solve per window). On the
demo model it did not help (docs/results/demo_model/poisson_blend/), so it is off by default.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import splu

# Added to every diagonal entry: a region with no boundary pixel at all (it would fill the whole window) then gets
# m = 0 instead of a singular system; elsewhere it changes m by far less than a grey level.
REGULARIZATION = 1e-6


def poisson_blend(generated: np.ndarray, window: np.ndarray, replaced: np.ndarray) -> np.ndarray:
    """``generated`` (H×W×C float, 0..255) corrected so that over ``replaced`` (H×W bool) it meets ``window``
    (H×W×C, the real pixels) at the region's edge; pixels outside ``replaced`` are returned unchanged."""
    height, width = replaced.shape
    if generated.shape[:2] != (height, width) or window.shape != generated.shape:
        raise ValueError(f"generated {generated.shape}, window {window.shape} and replaced {replaced.shape} must "
                         "cover the same pixels")
    out = np.array(generated, dtype=np.float32, copy=True)
    count = int(replaced.sum())
    if count == 0:
        return out
    index = np.full((height, width), -1, dtype=np.int64)
    index[replaced] = np.arange(count)
    real = window.astype(np.float32)
    ys, xs = np.nonzero(replaced)
    rows, cols, values = [], [], []
    degree = np.zeros(count, dtype=np.float64)
    rhs = np.zeros((count, generated.shape[2]), dtype=np.float64)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        inside = (ys + dy >= 0) & (ys + dy < height) & (xs + dx >= 0) & (xs + dx < width)  # off the window: free
        py, px = ys[inside], xs[inside]
        qy, qx = py + dy, px + dx
        me, neighbour = index[py, px], index[qy, qx]
        degree[me] += 1.0
        unknown = neighbour >= 0
        rows.append(me[unknown])
        cols.append(neighbour[unknown])
        values.append(np.full(int(unknown.sum()), -1.0))
        seam = ~unknown  # the real pixel across the edge minus the generated one on this side
        rhs[me[seam]] += real[qy[seam], qx[seam]] - out[py[seam], px[seam]]
    rows.append(np.arange(count))
    cols.append(np.arange(count))
    values.append(degree + REGULARIZATION)
    laplacian = coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(count, count)).tocsc()
    correction = splu(laplacian).solve(rhs)
    out[ys, xs] += correction.astype(np.float32)
    return out
