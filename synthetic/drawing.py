"""Supersampled sprite drawing for the synthetic street generator (``make_demo_data``).

Every foreground object (person, car, pole, ...) is drawn into its own small *sprite*: a 2x supersampled
colour patch plus a binary coverage mask, downsampled with an area filter into a premultiplied colour and a
fractional alpha.  That gives smooth (anti-aliased) edges while keeping an exact per-object mask
(``alpha >= 0.5``), which is what the annotation code needs to compute tight full and visible boxes.

All coordinates passed to :class:`Pen` are *image* pixel coordinates (floats); the pen converts them to the
supersampled, fixed-point coordinates cv2 wants.  Colours are RGB tuples in 0..255.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

SHIFT = 4  # cv2 fractional bits: sub-pixel precision for all primitives
_ONE = 1 << SHIFT
SUPERSAMPLE = 2

Color = tuple[float, float, float]
Point = tuple[float, float]


def _col(c: Sequence[float]) -> tuple[int, int, int]:
    return (int(round(float(c[0]))), int(round(float(c[1]))), int(round(float(c[2]))))


def scale_color(c: Sequence[float], f: float) -> Color:
    """Darken/brighten a colour, clipped to the valid range."""
    return (min(255.0, c[0] * f), min(255.0, c[1] * f), min(255.0, c[2] * f))


def mix_color(a: Sequence[float], b: Sequence[float], t: float) -> Color:
    """Linear blend ``(1-t)*a + t*b``."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


@dataclass
class Sprite:
    """A drawn object: premultiplied colour + alpha, placed at integer image offset (x0, y0)."""

    x0: int
    y0: int
    color: np.ndarray  # float32 (h, w, 3), premultiplied by alpha
    alpha: np.ndarray  # float32 (h, w) in [0, 1]

    @property
    def mask(self) -> np.ndarray:
        """Pixels the object owns (used for boxes and occlusion)."""
        return self.alpha >= 0.5


class Pen:
    """Draws filled primitives into a supersampled sprite covering image rect [x0, x1) x [y0, y1).

    ``mirror_axis``: when set, every x coordinate is reflected about this image column before drawing, so
    figures can be designed facing right and drawn facing left without separate code.
    """

    def __init__(self, x0: float, y0: float, x1: float, y1: float, mirror_axis: float | None = None):
        self.x0 = int(np.floor(x0))
        self.y0 = int(np.floor(y0))
        self.w = max(1, int(np.ceil(x1)) - self.x0)
        self.h = max(1, int(np.ceil(y1)) - self.y0)
        ss = SUPERSAMPLE
        self.color = np.zeros((self.h * ss, self.w * ss, 3), np.uint8)
        self.alpha = np.zeros((self.h * ss, self.w * ss), np.uint8)
        self.mirror_axis = mirror_axis

    # -- coordinate conversion -------------------------------------------------------------------------
    def _fx(self, pts: Sequence[Point] | np.ndarray) -> np.ndarray:
        a = np.array(pts, dtype=np.float64).reshape(-1, 2)
        if self.mirror_axis is not None:
            a[:, 0] = 2.0 * self.mirror_axis - a[:, 0]
        # pixel centres: supersampled pixel k covers image [x0 + k/ss, x0 + (k+1)/ss)
        a[:, 0] = (a[:, 0] - self.x0) * SUPERSAMPLE - 0.5
        a[:, 1] = (a[:, 1] - self.y0) * SUPERSAMPLE - 0.5
        return np.round(a * _ONE).astype(np.int32)

    def _len(self, v: float) -> int:
        return int(round(v * SUPERSAMPLE * _ONE))

    # -- primitives -------------------------------------------------------------------------------------
    def poly(self, pts: Sequence[Point] | np.ndarray, color: Sequence[float]) -> None:
        """Filled polygon."""
        p = [self._fx(pts)]
        cv2.fillPoly(self.color, p, _col(color), cv2.LINE_8, SHIFT)
        cv2.fillPoly(self.alpha, p, 255, cv2.LINE_8, SHIFT)

    def polys(self, polys: Sequence[Sequence[Point] | np.ndarray], color: Sequence[float]) -> None:
        """Several filled polygons of one colour (one cv2 call: faster)."""
        if not polys:
            return
        p = [self._fx(q) for q in polys]
        cv2.fillPoly(self.color, p, _col(color), cv2.LINE_8, SHIFT)
        cv2.fillPoly(self.alpha, p, 255, cv2.LINE_8, SHIFT)

    def line(self, a: Point, b: Point, width: float, color: Sequence[float]) -> None:
        """Thick line with round caps (limbs, poles, straps)."""
        p = self._fx([a, b])
        t = max(1, int(round(width * SUPERSAMPLE)))
        cv2.line(self.color, tuple(p[0]), tuple(p[1]), _col(color), t, cv2.LINE_8, SHIFT)
        cv2.line(self.alpha, tuple(p[0]), tuple(p[1]), 255, t, cv2.LINE_8, SHIFT)

    def ellipse(
        self, center: Point, axes: tuple[float, float], color: Sequence[float], angle: float = 0.0
    ) -> None:
        """Filled ellipse; ``angle`` in degrees (mirrored automatically)."""
        c = self._fx([center])[0]
        ax = (max(1, self._len(axes[0])), max(1, self._len(axes[1])))
        ang = -angle if self.mirror_axis is not None else angle
        cv2.ellipse(self.color, (int(c[0]), int(c[1])), ax, ang, 0, 360, _col(color), -1, cv2.LINE_8, SHIFT)
        cv2.ellipse(self.alpha, (int(c[0]), int(c[1])), ax, ang, 0, 360, 255, -1, cv2.LINE_8, SHIFT)

    def ring(self, center: Point, radius: float, width: float, color: Sequence[float]) -> None:
        """Circle outline (bicycle wheels, sign borders)."""
        c = self._fx([center])[0]
        t = max(1, int(round(width * SUPERSAMPLE)))
        r = max(1, self._len(radius))
        cv2.circle(self.color, (int(c[0]), int(c[1])), r, _col(color), t, cv2.LINE_8, SHIFT)
        cv2.circle(self.alpha, (int(c[0]), int(c[1])), r, 255, t, cv2.LINE_8, SHIFT)

    def pattern_poly(
        self,
        pts: Sequence[Point] | np.ndarray,
        base: Sequence[float],
        pattern: str,
        accent: Sequence[float],
        period: float,
    ) -> None:
        """Polygon filled with ``solid`` / ``stripes`` (horizontal) / ``vstripes`` / ``checks`` cloth."""
        if pattern == "solid" or period <= 0:
            self.poly(pts, base)
            return
        m = np.zeros(self.alpha.shape, np.uint8)
        cv2.fillPoly(m, [self._fx(pts)], 1, cv2.LINE_8, SHIFT)
        ys, xs = np.nonzero(m)
        if ys.size == 0:
            return
        per = max(2.0, period * SUPERSAMPLE)
        # pattern phase is anchored to the polygon so the garment looks the same wherever it is drawn
        ry = ((ys - ys.min()) / per).astype(np.int64)
        rx = ((xs - xs.min()) / per).astype(np.int64)
        if pattern == "stripes":
            on = ry % 2 == 1
        elif pattern == "vstripes":
            on = rx % 2 == 1
        else:  # checks
            on = (ry + rx) % 2 == 1
        cols = np.where(on[:, None], np.array(_col(accent), np.uint8), np.array(_col(base), np.uint8))
        self.color[ys, xs] = cols
        self.alpha[ys, xs] = 255

    # -- output -------------------------------------------------------------------------------------------
    def sprite(self) -> Sprite:
        """Area-downsample to image resolution (premultiplied colour, fractional alpha)."""
        size = (self.w, self.h)
        col = cv2.resize(self.color.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(self.alpha.astype(np.float32), size, interpolation=cv2.INTER_AREA) / 255.0
        return Sprite(self.x0, self.y0, col.reshape(self.h, self.w, 3), alpha.reshape(self.h, self.w))


def clip_rect(x0: float, y0: float, x1: float, y1: float, width: int, height: int, pad: int = 2):
    """Intersect a sprite rect with the image (plus a small pad); None when nothing is left."""
    cx0, cy0 = max(x0, -pad), max(y0, -pad)
    cx1, cy1 = min(x1, width + pad), min(y1, height + pad)
    if cx1 - cx0 < 1 or cy1 - cy0 < 1:
        return None
    return cx0, cy0, cx1, cy1


def paste(canvas: np.ndarray, owner: np.ndarray | None, sp: Sprite, oid: int, opacity: float = 1.0):
    """Alpha-composite ``sp`` onto the float32 RGB ``canvas``; mark its pixels in ``owner`` with ``oid``.

    Returns the tight box ``(x0, y0, x1, y1)`` (inclusive) of the object's mask inside the image, or None if
    none of it lands in the image.
    """
    hgt, wid = canvas.shape[:2]
    sh, sw = sp.alpha.shape
    ix0, iy0 = max(0, sp.x0), max(0, sp.y0)
    ix1, iy1 = min(wid, sp.x0 + sw), min(hgt, sp.y0 + sh)
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    sx0, sy0 = ix0 - sp.x0, iy0 - sp.y0
    a = sp.alpha[sy0 : sy0 + iy1 - iy0, sx0 : sx0 + ix1 - ix0]
    c = sp.color[sy0 : sy0 + iy1 - iy0, sx0 : sx0 + ix1 - ix0]
    region = canvas[iy0:iy1, ix0:ix1]
    if opacity < 1.0:
        a = a * opacity
        c = c * opacity
    region *= 1.0 - a[..., None]
    region += c
    m = a >= 0.5 if opacity >= 1.0 else sp.alpha[sy0 : sy0 + iy1 - iy0, sx0 : sx0 + ix1 - ix0] >= 0.5
    if owner is not None:
        owner[iy0:iy1, ix0:ix1][m] = oid
    return mask_box(m, ix0, iy0)


def mask_box(m: np.ndarray, ox: int = 0, oy: int = 0):
    """Inclusive bounding box of a boolean mask, offset by (ox, oy); None for an empty mask."""
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return (int(cols[0]) + ox, int(rows[0]) + oy, int(cols[-1]) + ox, int(rows[-1]) + oy)
