"""Street geometry, background painting and street furniture for ``make_demo_data``.

World frame (metres): X to the right, Y up (road surface at Y=0, sidewalks at ``CURB_H``), Z forward from the
camera.  A pinhole :class:`Camera` with Cityscapes-like intrinsics (fx ~ 1.1 * width) maps it to pixels,
so the road, sidewalks and facades converge to one vanishing point and objects shrink with depth.

The background (sky, facades, windows, road, markings) is painted straight into the frame with cv2 polygons;
everything that can occlude a person (cars, poles, trees, bins, benches, ...) is a sprite from
:mod:`synthetic.drawing`, so the frame builder can track per-pixel ownership.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from synthetic.drawing import (
    SHIFT,
    Color,
    Pen,
    Sprite,
    clip_rect,
    mix_color,
    scale_color,
)

CURB_H = 0.12
Z_FAR = 240.0
Z_NEAR = 0.8

FACADE_COLORS: list[Color] = [
    (226, 214, 186),
    (214, 190, 150),
    (236, 226, 204),
    (200, 170, 140),
    (184, 120, 96),
    (160, 94, 76),
    (206, 206, 198),
    (172, 172, 168),
    (196, 206, 190),
    (224, 200, 170),
    (190, 196, 210),
    (150, 140, 130),
    (232, 220, 170),
    (218, 168, 130),
]
CAR_COLORS: list[Color] = [
    (232, 232, 232),
    (180, 182, 186),
    (40, 40, 44),
    (28, 36, 64),
    (150, 28, 30),
    (96, 100, 108),
    (210, 210, 205),
    (60, 70, 60),
    (30, 60, 120),
    (120, 110, 96),
]
SIGN_COLORS: list[Color] = [
    (190, 40, 40),
    (40, 90, 160),
    (40, 120, 70),
    (230, 190, 50),
    (30, 30, 30),
    (230, 230, 230),
]


# --- camera ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Camera:
    """Pinhole camera ``cam_h`` metres above the road, looking along +Z (no roll, no pitch)."""

    width: int
    height: int
    fx: float
    fy: float
    vx: float
    horizon: float
    cam_h: float

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        return (self.vx + self.fx * x / z, self.horizon + self.fy * (self.cam_h - y) / z)

    def scale(self, z: float) -> tuple[float, float]:
        """Pixels per metre (horizontal, vertical) at depth z."""
        return (self.fx / z, self.fy / z)

    def x_to_world(self, px: float, z: float) -> float:
        return (px - self.vx) * z / self.fx

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


def sample_camera(rng: np.random.Generator, width: int, height: int) -> Camera:
    """Cityscapes-like intrinsics (f = 2262 px for 2048x1024) with a little per-frame jitter.

    Square pixels: for other aspect ratios the focal length follows the tighter dimension, so people are
    never stretched.
    """
    f = min(1.1045 * width, 2.209 * height) * float(rng.uniform(0.97, 1.03))
    return Camera(
        width=width,
        height=height,
        fx=f,
        fy=f,
        vx=width * float(0.5 + rng.normal(0.0, 0.012)),
        horizon=height * float(rng.uniform(0.405, 0.445)),
        cam_h=float(rng.uniform(1.25, 1.42)),
    )


# --- lighting -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Light:
    """Per-frame time of day: global tint/brightness, sky colours, which facade side is sunlit."""

    name: str
    tint: tuple[float, float, float]
    brightness: float
    sky_top: Color
    sky_horizon: Color
    sun_side: float  # -1 left facades lit, +1 right, 0 diffuse
    glow: float  # fraction of windows lit (evening)


def sample_light(rng: np.random.Generator) -> Light:
    name = ["overcast", "sunny", "evening", "morning", "dusk"][
        int(rng.choice(5, p=[0.34, 0.28, 0.16, 0.14, 0.08]))
    ]
    side = float(rng.choice([-1.0, 1.0]))
    if name == "overcast":
        return Light(
            name,
            (0.97, 0.99, 1.03),
            float(rng.uniform(0.88, 1.02)),
            (170, 178, 190),
            (214, 218, 222),
            0.0,
            0.0,
        )
    if name == "sunny":
        return Light(
            name, (1.02, 1.0, 0.97), float(rng.uniform(1.0, 1.1)), (80, 138, 214), (184, 210, 236), side, 0.0
        )
    if name == "evening":
        return Light(
            name,
            (1.1, 0.97, 0.8),
            float(rng.uniform(0.86, 0.98)),
            (96, 120, 170),
            (246, 184, 120),
            side,
            0.15,
        )
    if name == "morning":
        return Light(
            name,
            (1.0, 1.0, 1.04),
            float(rng.uniform(0.95, 1.05)),
            (120, 160, 214),
            (230, 222, 206),
            side * 0.6,
            0.0,
        )
    return Light(
        name, (0.92, 0.95, 1.1), float(rng.uniform(0.66, 0.76)), (40, 52, 90), (150, 130, 140), 0.0, 0.35
    )


# --- street layout --------------------------------------------------------------------------------
@dataclass
class Building:
    side: int  # -1 left, +1 right
    line: float  # signed X of the facade plane
    z0: float
    z1: float
    height: float
    color: Color
    floor_h: float
    win_w: float
    win_h: float
    win_step: float
    frame_color: Color
    glass: Color
    shop: Color | None  # sign/awning colour of a ground-floor shop, None for residential
    cornice: bool


@dataclass
class Street:
    road: float  # curb offset |X| of both curbs
    walk: dict[int, float]  # side -> |X| of the building line
    parking: bool
    cross: tuple[float, float] | None  # Z range of a side street (no facades there)
    zebra: tuple[float, float] | None  # Z range of a pedestrian crossing
    asphalt: Color
    paving: Color
    zone: bool = False  # pedestrian zone: paved wall to wall, no kerbs, no cars
    buildings: list[Building] = field(default_factory=list)

    @property
    def walk_y(self) -> float:
        """Height of the surface people walk on (raised sidewalk, or level paving in a pedestrian zone)."""
        return 0.0 if self.zone else CURB_H

    def walk_spans(self) -> list[tuple[float, float, int]]:
        """Signed X intervals people may stand on away from crossings, with the side they belong to."""
        if self.zone:
            return [(-self.walk[-1], 0.0, -1), (0.0, self.walk[1], 1)]
        return [(*self.sidewalk(-1), -1), (*self.sidewalk(1), 1)]

    def sidewalk(self, side: int) -> tuple[float, float]:
        """Signed X interval of the sidewalk on ``side`` (left is negative)."""
        a, b = self.road, self.walk[side]
        return (-b, -a) if side < 0 else (a, b)

    def in_cross(self, z: float, margin: float = 0.0) -> bool:
        return self.cross is not None and self.cross[0] - margin <= z <= self.cross[1] + margin

    def in_zebra(self, z: float, margin: float = 0.0) -> bool:
        return self.zebra is not None and self.zebra[0] - margin <= z <= self.zebra[1] + margin


def _sample_buildings(rng: np.random.Generator, street: Street, side: int) -> list[Building]:
    out: list[Building] = []
    z = 1.0
    while z < Z_FAR:
        if street.cross is not None and street.cross[0] <= z + 8 and z < street.cross[1]:
            if z < street.cross[0]:  # last building before the side street ends exactly at its edge
                out.append(_building(rng, side, street.walk[side], z, street.cross[0]))
            z = street.cross[1]
            continue
        length = float(rng.uniform(9.0, 26.0))
        out.append(_building(rng, side, street.walk[side], z, z + length))
        z += length
    return out


def _sample_zone(rng: np.random.Generator) -> Street:
    """Pedestrian zone: a paved street between facades, people everywhere, no traffic."""
    half = float(rng.uniform(7.0, 10.0))
    paving = mix_color((176, 168, 156), (206, 196, 178), float(rng.uniform(0, 1)))
    cross = None
    if rng.random() < 0.4:
        c0 = float(rng.uniform(40.0, 70.0))
        cross = (c0, c0 + float(rng.uniform(8.0, 12.0)))
    street = Street(
        road=0.0,
        walk={-1: half, 1: half},
        parking=False,
        cross=cross,
        zebra=None,
        asphalt=paving,
        paving=paving,
        zone=True,
    )
    street.buildings = _sample_buildings(rng, street, -1) + _sample_buildings(rng, street, 1)
    return street


def _building(rng: np.random.Generator, side: int, line: float, z0: float, z1: float) -> Building:
    color = FACADE_COLORS[int(rng.integers(len(FACADE_COLORS)))]
    color = scale_color(color, float(rng.uniform(0.9, 1.05)))
    glass = mix_color((52, 62, 74), (120, 140, 160), float(rng.uniform(0.0, 0.5)))
    return Building(
        side=side,
        line=side * line,
        z0=z0,
        z1=z1,
        height=float(rng.uniform(10.0, 24.0)),
        color=color,
        floor_h=float(rng.uniform(3.0, 3.6)),
        win_w=float(rng.uniform(1.0, 1.5)),
        win_h=float(rng.uniform(1.4, 1.9)),
        win_step=float(rng.uniform(2.4, 3.6)),
        frame_color=mix_color(color, (245, 245, 240), float(rng.uniform(0.2, 0.8))),
        glass=glass,
        shop=SIGN_COLORS[int(rng.integers(len(SIGN_COLORS)))] if rng.random() < 0.55 else None,
        cornice=bool(rng.random() < 0.6),
    )


def sample_street(rng: np.random.Generator) -> Street:
    if rng.random() < 0.22:
        return _sample_zone(rng)
    road = float(rng.uniform(4.2, 7.2))
    walk = {-1: road + float(rng.uniform(2.8, 5.0)), 1: road + float(rng.uniform(2.8, 5.0))}
    cross = None
    if rng.random() < 0.6:
        c0 = float(rng.uniform(34.0, 70.0))
        cross = (c0, c0 + float(rng.uniform(11.0, 16.0)))
    if cross is not None and rng.random() < 0.7:
        zebra = (cross[0] - 4.5, cross[0] - 0.8)
    elif rng.random() < 0.5:
        z0 = float(rng.uniform(16.0, 30.0))
        zebra = (z0, z0 + 4.0)
    else:
        zebra = None
    a = float(rng.uniform(70, 100))
    street = Street(
        road=road,
        walk=walk,
        parking=road > 5.0,
        cross=cross,
        zebra=zebra,
        asphalt=(a, a, a * 1.02),
        paving=mix_color((168, 164, 156), (196, 186, 170), float(rng.uniform(0, 1))),
    )
    street.buildings = _sample_buildings(rng, street, -1) + _sample_buildings(rng, street, 1)
    return street


# --- background painting --------------------------------------------------------------------------
def _ipts(cam: Camera, pts3: list[tuple[float, float, float]]) -> np.ndarray:
    p = np.array([cam.project(*q) for q in pts3], dtype=np.float64)
    p = np.clip(p, -1e6, 1e6)
    return np.round(p * (1 << SHIFT)).astype(np.int32)


def _fill(img: np.ndarray, cam: Camera, polys3: list, color: Color) -> None:
    if polys3:
        cv2.fillPoly(img, [_ipts(cam, q) for q in polys3], tuple(float(c) for c in color), cv2.LINE_AA, SHIFT)


def _ground_quad(x0: float, x1: float, z0: float, z1: float, y: float = 0.0):
    return [(x0, y, z0), (x1, y, z0), (x1, y, z1), (x0, y, z1)]


def _wall_quad(x: float, y0: float, y1: float, z0: float, z1: float):
    return [(x, y0, z0), (x, y0, z1), (x, y1, z1), (x, y1, z0)]


def _front_quad(x0: float, x1: float, y0: float, y1: float, z: float):
    return [(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)]


def _sky(img: np.ndarray, cam: Camera, light: Light, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    t = np.clip(np.arange(h, dtype=np.float32) / max(1.0, cam.horizon), 0, 1) ** 0.8
    top, hor = np.array(light.sky_top, np.float32), np.array(light.sky_horizon, np.float32)
    img[:] = (top[None, :] * (1 - t[:, None]) + hor[None, :] * t[:, None])[:, None, :]
    # soft clouds: thresholded low-frequency noise, only where sky can show (above the horizon)
    hs = int(min(h, max(1.0, cam.horizon)))
    n = cv2.resize(rng.random((6, 12)).astype(np.float32), (w, hs), interpolation=cv2.INTER_CUBIC)
    cloud = np.clip((n - 0.55) * 2.2, 0, 0.75)[..., None] * (1 - t[:hs, None, None])
    img[:hs] = img[:hs] * (1 - cloud) + np.float32(235) * cloud


def _skyline(img: np.ndarray, cam: Camera, light: Light, rng: np.random.Generator) -> None:
    """Distant blocks closing the street, hazed toward the sky colour."""
    z = Z_FAR
    x = -90.0
    while x < 90.0:
        wdt = float(rng.uniform(8, 22))
        col = mix_color(FACADE_COLORS[int(rng.integers(len(FACADE_COLORS)))], light.sky_horizon, 0.55)
        _fill(img, cam, [_front_quad(x, x + wdt, 0, float(rng.uniform(8, 34)), z)], col)
        x += wdt


def _ground(img: np.ndarray, cam: Camera, street: Street) -> None:
    w = 400.0
    _fill(img, cam, [_ground_quad(-w, w, Z_NEAR, Z_FAR)], street.asphalt)
    if street.zone:
        _zone_paving(img, cam, street)
        return
    for side in (-1, 1):
        x0, x1 = street.sidewalk(side)
        zs = [(Z_NEAR, Z_FAR)]
        if street.cross is not None:
            zs = [(Z_NEAR, street.cross[0]), (street.cross[1], Z_FAR)]
            far = side * 80.0  # sidewalks of the side street
            for za, zb in (
                (street.cross[0], street.cross[0] + 3.0),
                (street.cross[1] - 3.0, street.cross[1]),
            ):
                _fill(
                    img,
                    cam,
                    [_ground_quad(min(x0, x1, far), max(x0, x1, far), za, zb, CURB_H)],
                    street.paving,
                )
        curb = side * street.road
        for za, zb in zs:
            _fill(img, cam, [_ground_quad(x0, x1, za, zb, CURB_H)], street.paving)
            _fill(img, cam, [_wall_quad(curb, 0.0, CURB_H, za, zb)], scale_color(street.paving, 1.1))
            _fill(
                img,
                cam,
                [_ground_quad(curb, curb + side * 0.22, za, zb, CURB_H)],
                scale_color(street.paving, 1.12),
            )
            _paving_joints(img, cam, street, side, za, min(zb, 70.0))


def _paving_joints(img: np.ndarray, cam: Camera, street: Street, side: int, z0: float, z1: float) -> None:
    x0, x1 = street.sidewalk(side)
    col = tuple(float(c) for c in scale_color(street.paving, 0.82))
    z = math.ceil(z0 / 1.2) * 1.2
    while z < z1:
        a, b = cam.project(x0, CURB_H, z), cam.project(x1, CURB_H, z)
        cv2.line(img, _pt(a), _pt(b), col, 1, cv2.LINE_AA, SHIFT)
        z += 1.2
    xm = (x0 + x1) / 2
    cv2.line(
        img,
        _pt(cam.project(xm, CURB_H, max(z0, 2.0))),
        _pt(cam.project(xm, CURB_H, z1)),
        col,
        1,
        cv2.LINE_AA,
        SHIFT,
    )


def _zone_paving(img: np.ndarray, cam: Camera, street: Street) -> None:
    """Joint grid of a pedestrian-zone floor plus a darker drainage gutter along the middle."""
    col = tuple(float(c) for c in scale_color(street.paving, 0.84))
    x0, x1 = -street.walk[-1], street.walk[1]
    z = 2.4
    while z < 90.0:
        cv2.line(img, _pt(cam.project(x0, 0, z)), _pt(cam.project(x1, 0, z)), col, 1, cv2.LINE_AA, SHIFT)
        z += 2.4
    x = math.ceil(x0 / 2.4) * 2.4
    while x < x1:
        cv2.line(img, _pt(cam.project(x, 0, 1.5)), _pt(cam.project(x, 0, 120.0)), col, 1, cv2.LINE_AA, SHIFT)
        x += 2.4
    _fill(img, cam, [_ground_quad(-0.09, 0.09, Z_NEAR, Z_FAR)], scale_color(street.paving, 0.78))


def _pt(p: tuple[float, float]) -> tuple[int, int]:
    return (
        int(round(max(-1e6, min(1e6, p[0])) * (1 << SHIFT))),
        int(round(max(-1e6, min(1e6, p[1])) * (1 << SHIFT))),
    )


def _road_wear(img: np.ndarray, cam: Camera, street: Street, rng: np.random.Generator) -> None:
    """Darker wheel tracks, repaired patches and manhole covers: what makes asphalt read as a road."""
    base = street.asphalt
    if not street.zone:
        tracks = []
        for lane in (-street.road / 2, street.road / 2):
            for off in (-0.8, 0.8):
                x = lane + off
                tracks.append(_ground_quad(x - 0.25, x + 0.25, 2.0, 150.0))
        _fill(img, cam, tracks, scale_color(base, 0.93))
        for _ in range(int(rng.integers(1, 4))):
            x = float(rng.uniform(-street.road + 0.5, street.road - 2.0))
            z = float(rng.uniform(5.0, 40.0))
            quad = _ground_quad(x, x + float(rng.uniform(0.8, 2.5)), z, z + float(rng.uniform(1.5, 5.0)))
            _fill(img, cam, [quad], scale_color(base, float(rng.uniform(0.86, 1.08))))
    half = street.walk[1] - 1.0 if street.zone else street.road - 1.0
    for _ in range(int(rng.integers(0, 3))):
        x, z = float(rng.uniform(-half, half)), float(rng.uniform(6.0, 30.0))
        cx, cy = cam.project(x, 0.0, z)
        ry = abs(cam.project(x, 0.0, z - 0.32)[1] - cam.project(x, 0.0, z + 0.32)[1]) / 2
        ax = (int(round(0.32 * cam.fx / z * (1 << SHIFT))), int(round(max(ry, 0.5) * (1 << SHIFT))))
        c = (int(round(cx * (1 << SHIFT))), int(round(cy * (1 << SHIFT))))
        cv2.ellipse(
            img, c, ax, 0, 0, 360, tuple(float(v) for v in scale_color(base, 0.62)), -1, cv2.LINE_AA, SHIFT
        )
        ax2 = (ax[0] * 3 // 4, ax[1] * 3 // 4)
        cv2.ellipse(
            img, c, ax2, 0, 0, 360, tuple(float(v) for v in scale_color(base, 0.78)), -1, cv2.LINE_AA, SHIFT
        )


def _markings(img: np.ndarray, cam: Camera, street: Street) -> None:
    white = (226, 226, 220)
    dashes, solid = [], []
    z = 2.0
    while z < 160:
        if not street.in_cross(z, 1.0) and not street.in_zebra(z, 1.0):
            dashes.append(_ground_quad(-0.07, 0.07, z, z + 3.0))
        z += 9.0
    for s in (-1, 1):
        if street.parking:
            x = s * (street.road - 2.2)
            for za, zb in _open_spans(street, 2.0, 160.0):
                solid.append(_ground_quad(x - 0.06, x + 0.06, za, zb))
    if street.zebra is not None:
        za, zb = street.zebra
        x = -street.road + 0.3
        while x < street.road - 0.5:
            solid.append(_ground_quad(x, x + 0.5, za, zb))
            x += 1.0
        if street.cross is not None:
            solid.append(_ground_quad(-street.road, 0, za - 1.2, za - 0.8))
    _fill(img, cam, dashes, white)
    _fill(img, cam, solid, white)


def _open_spans(street: Street, z0: float, z1: float) -> list[tuple[float, float]]:
    """Z intervals not interrupted by the side street or the zebra crossing."""
    cuts = sorted(c for c in (street.cross, street.zebra) if c is not None)
    spans, z = [], z0
    for a, b in cuts:
        if a > z:
            spans.append((z, min(a, z1)))
        z = max(z, b)
    if z < z1:
        spans.append((z, z1))
    return spans


def _facade(img: np.ndarray, cam: Camera, b: Building, light: Light, rng: np.random.Generator) -> None:
    x = b.line
    lit = 1.0 + 0.12 * light.sun_side * b.side
    base = scale_color(b.color, lit)
    _fill(img, cam, [_wall_quad(x, 0.0, b.height, b.z0, b.z1)], base)
    _fill(img, cam, [_wall_quad(x, 0.0, 0.55, b.z0, b.z1)], scale_color(base, 0.72))
    if b.cornice:
        _fill(img, cam, [_wall_quad(x, b.height - 0.5, b.height, b.z0, b.z1)], scale_color(base, 0.8))
    _fill(
        img, cam, [_wall_quad(x, 0.0, b.height, b.z1 - 0.25, b.z1)], scale_color(base, 0.88)
    )  # party wall line
    if b.z0 > 150:
        return
    frames, glasses, lit_w = [], [], []
    n = max(1, int((b.z1 - b.z0 - 0.8) / b.win_step))
    pad = (b.z1 - b.z0 - n * b.win_step) / 2
    first = 4.2 if b.shop is not None else 1.0
    y = first
    while y + b.win_h < b.height - 0.8:
        for k in range(n):
            za = b.z0 + pad + k * b.win_step + (b.win_step - b.win_w) / 2
            frames.append(_wall_quad(x, y - 0.08, y + b.win_h + 0.08, za - 0.08, za + b.win_w + 0.08))
            g = _wall_quad(x, y, y + b.win_h, za, za + b.win_w)
            (lit_w if rng.random() < light.glow else glasses).append(g)
        y += b.floor_h
    _fill(img, cam, frames, scale_color(b.frame_color, lit))
    _fill(img, cam, glasses, b.glass)
    _fill(img, cam, lit_w, (236, 204, 130))
    if b.shop is not None:
        _shopfront(img, cam, b, x, lit)
    else:
        zd = b.z0 + pad + 0.3
        _fill(img, cam, [_wall_quad(x, CURB_H, 2.3, zd, zd + 1.2)], scale_color(b.color, 0.45))


def _shopfront(img: np.ndarray, cam: Camera, b: Building, x: float, lit: float) -> None:
    sign = scale_color(b.shop, lit)
    _fill(img, cam, [_wall_quad(x, 3.2, 3.9, b.z0 + 0.3, b.z1 - 0.3)], sign)
    panes, z = [], b.z0 + 0.6
    while z + 1.5 < b.z1 - 0.5:
        wz = min(3.2, b.z1 - 0.5 - z)
        panes.append(_wall_quad(x, 0.6, 2.9, z, z + wz))
        z += wz + 0.5
    _fill(img, cam, panes, mix_color(b.glass, (30, 34, 40), 0.4))
    # a light reflection stripe across the panes makes them read as glass
    refl = [[(x, 1.9, q[0][2]), (x, 2.5, q[0][2]), (x, 2.2, q[1][2]), (x, 1.6, q[1][2])] for q in panes]
    _fill(img, cam, refl, mix_color(b.glass, (200, 210, 220), 0.35))


def _cross_walls(
    img: np.ndarray, cam: Camera, street: Street, rng: np.random.Generator, light: Light
) -> None:
    """Buildings along the side street, facing the camera."""
    if street.cross is None:
        return
    z = street.cross[1]
    for side in (-1, 1):
        x0 = side * street.walk[side]
        hgt = float(rng.uniform(10, 22))
        col = FACADE_COLORS[int(rng.integers(len(FACADE_COLORS)))]
        xa, xb = sorted((x0, x0 + side * 60.0))
        _fill(img, cam, [_front_quad(xa, xb, 0.0, hgt, z)], scale_color(col, 0.9))
        wins, y = [], 1.2
        while y + 1.6 < hgt - 0.8:
            xx = xa + 1.0
            while xx + 1.2 < xb:
                wins.append(_front_quad(xx, xx + 1.2, y, y + 1.6, z))
                xx += 3.0
            y += 3.3
        _fill(img, cam, wins, (62, 70, 82))


def _texture(img: np.ndarray, rng: np.random.Generator, cam: Camera) -> None:
    """Weathering blotches plus asphalt/paving grain below the horizon, so large areas are not flat."""
    h, w = img.shape[:2]
    n = rng.normal(0.0, 1.0, (max(4, h // 48), max(8, w // 48))).astype(np.float32)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
    img *= (1.0 + 0.022 * n)[..., None]
    top = int(min(h, max(0.0, cam.horizon + 2)))
    grain = rng.normal(0.0, 1.0, (h - top, w)).astype(np.float32)
    # grain fades toward the horizon where the ground is far away and tiny
    fade = np.linspace(0.3, 1.0, h - top, dtype=np.float32)[:, None]
    img[top:] *= (1.0 + 0.035 * grain * fade)[..., None]


def paint_background(cam: Camera, street: Street, light: Light, rng: np.random.Generator) -> np.ndarray:
    """Sky, skyline, road, sidewalks, markings and facades as a float32 RGB image."""
    img = np.zeros((cam.height, cam.width, 3), np.float32)
    _sky(img, cam, light, rng)
    _skyline(img, cam, light, rng)
    _ground(img, cam, street)
    _road_wear(img, cam, street, rng)
    if not street.zone:
        _markings(img, cam, street)
    _cross_walls(img, cam, street, rng, light)
    for b in sorted(street.buildings, key=lambda q: -q.z0):
        _facade(img, cam, b, light, rng)
    _texture(img, rng, cam)
    return img


# --- 3-D props as sprites -------------------------------------------------------------------------
class PropPainter:
    """Draws convex 3-D parts of one object into one sprite (only faces turned toward the camera)."""

    def __init__(self, cam: Camera, corners: list[tuple[float, float, float]]):
        self.cam = cam
        pts = np.array([cam.project(*c) for c in corners])
        self.rect = clip_rect(
            pts[:, 0].min() - 2,
            pts[:, 1].min() - 2,
            pts[:, 0].max() + 2,
            pts[:, 1].max() + 2,
            cam.width,
            cam.height,
        )
        self.pen = Pen(*self.rect) if self.rect is not None else None

    def face(self, pts3, color: Color) -> None:
        self.pen.poly([self.cam.project(*q) for q in pts3], color)

    def box(self, x0, x1, y0, y1, z0, z1, color: Color, top: float = 1.08, side: float = 0.76) -> None:
        """Axis-aligned box: front face, the side turned to the camera, top if below eye level."""
        cam = self.cam
        if x0 > 0:
            self.face(_wall_quad(x0, y0, y1, z0, z1), scale_color(color, side))
        if x1 < 0:
            self.face(_wall_quad(x1, y0, y1, z0, z1), scale_color(color, side))
        if y1 < cam.cam_h:
            self.face(_ground_quad(x0, x1, z0, z1, y1), scale_color(color, top))
        self.face(_front_quad(x0, x1, y0, y1, z0), color)

    def convex(self, faces: list[list[tuple[float, float, float]]], centre, colors: list[Color]) -> None:
        """Arbitrary convex solid given as planar faces; draws the faces facing the camera."""
        eye = np.array([0.0, self.cam.cam_h, 0.0])
        c0 = np.array(centre)
        for pts, col in zip(faces, colors, strict=True):
            p = np.array(pts)
            n = np.cross(p[1] - p[0], p[2] - p[0])
            fc = p.mean(axis=0)
            if np.dot(n, fc - c0) < 0:
                n = -n
            if np.dot(n, eye - fc) > 0:
                self.face(pts, col)

    def ellipse3(self, c, r: float, color: Color) -> None:
        """Sphere / disc facing the camera (tree crowns, sign plates)."""
        x, y = self.cam.project(*c)
        sx, sy = self.cam.scale(c[2])
        self.pen.ellipse((x, y), (r * sx, r * sy), color)

    def sprite(self) -> Sprite | None:
        return self.pen.sprite() if self.pen is not None else None


def car_sprite(
    cam: Camera, xc: float, z0: float, color: Color, oncoming: bool, length: float = 4.4
) -> Sprite | None:
    """Saloon car whose near end (rear, or front if ``oncoming``) is at depth z0, centred on X=xc."""
    hw, z1 = 0.9, z0 + length
    pp = PropPainter(cam, [(xc + s * hw, y, z) for s in (-1, 1) for y in (0, 1.5) for z in (z0, z1)])
    if pp.pen is None:
        return None
    tyre = (22, 22, 24)
    for s in (-1, 1):  # tyres peeking out under the near end
        pp.box(
            xc + s * hw - (0.25 if s > 0 else 0),
            xc + s * hw + (0.25 if s < 0 else 0),
            0.0,
            0.42,
            z0 + 0.55,
            z0 + 0.95,
            tyre,
        )
    pp.box(xc - hw, xc + hw, 0.3, 0.92, z0, z1, color)
    # wheels on the visible long side
    xs = xc - hw if xc > 0 else xc + hw
    for zw in (z0 + 0.85, z1 - 0.85):
        a, b = cam.project(xs, 0.34, zw - 0.34), cam.project(xs, 0.34, zw + 0.34)
        cx, cy = cam.project(xs, 0.34, zw)
        ry = 0.34 * cam.fy / zw
        pp.pen.ellipse((cx, cy), (max(0.5, abs(a[0] - b[0]) / 2), ry), tyre)
        pp.pen.ellipse((cx, cy), (max(0.3, abs(a[0] - b[0]) / 4), ry * 0.5), (120, 120, 124))
    # cabin: a frustum on top of the body
    zb0, zb1 = z0 + (1.25 if not oncoming else 1.45), z1 - (1.45 if not oncoming else 1.25)
    zt0, zt1 = zb0 + 0.45, zb1 - 0.4
    lo, hi = 0.92, 1.45
    bl = [
        (xc - hw + 0.06, lo, zb0),
        (xc + hw - 0.06, lo, zb0),
        (xc + hw - 0.06, lo, zb1),
        (xc - hw + 0.06, lo, zb1),
    ]
    tp = [(xc - 0.72, hi, zt0), (xc + 0.72, hi, zt0), (xc + 0.72, hi, zt1), (xc - 0.72, hi, zt1)]
    faces = [[bl[0], bl[1], tp[1], tp[0]], [bl[1], bl[2], tp[2], tp[1]], [bl[3], bl[0], tp[0], tp[3]], tp]
    glass = (54, 62, 74)
    centre = (xc, (lo + hi) / 2, (zb0 + zb1) / 2)
    pp.convex(
        faces,
        centre,
        [scale_color(color, 0.95), scale_color(color, 0.8), scale_color(color, 0.8), scale_color(color, 1.1)],
    )
    inset = [[_towards(q, np.mean(f, axis=0), 0.16) for q in f] for f in faces[:3]]
    pp.convex(inset, centre, [glass, scale_color(glass, 0.85), scale_color(glass, 0.85)])
    # lights, plate and bumper on the near end
    zf = z0 - 0.01
    lamp = (238, 236, 214) if oncoming else (176, 24, 24)
    for s in (-1, 1):
        pp.face(_front_quad(xc + s * 0.62, xc + s * 0.84, 0.66, 0.82, zf), lamp)
    pp.face(_front_quad(xc - 0.88, xc + 0.88, 0.3, 0.42, zf), scale_color(color, 0.6))
    pp.face(_front_quad(xc - 0.26, xc + 0.26, 0.44, 0.56, zf), (236, 236, 232))
    if oncoming:
        pp.face(_front_quad(xc - 0.45, xc + 0.45, 0.62, 0.8, zf), (40, 42, 46))
    return pp.sprite()


def _towards(p, c, t: float):
    return (p[0] + (c[0] - p[0]) * t, p[1] + (c[1] - p[1]) * t, p[2] + (c[2] - p[2]) * t)


def lamp_sprite(cam: Camera, x: float, z: float, y0: float) -> Sprite | None:
    """Street lamp: thin post with an arm reaching over the road."""
    arm = -math.copysign(1.4, x)
    pp = PropPainter(cam, [(x - 0.1, y0, z), (x + 0.1, 8.0, z), (x + arm, 7.9, z)])
    if pp.pen is None:
        return None
    col = (70, 78, 76)
    pp.box(x - 0.07, x + 0.07, y0, 7.6, z - 0.07, z + 0.07, col)
    pp.box(x - 0.12, x + 0.12, y0, y0 + 0.6, z - 0.12, z + 0.12, scale_color(col, 0.9))
    pp.box(min(x, x + arm), max(x, x + arm), 7.45, 7.55, z - 0.05, z + 0.05, col)
    pp.box(x + arm - 0.3, x + arm + 0.3, 7.3, 7.45, z - 0.15, z + 0.15, (200, 200, 190))
    return pp.sprite()


def sign_sprite(cam: Camera, x: float, z: float, y0: float, kind: int) -> Sprite | None:
    """Traffic sign on a post (round prohibitory/mandatory or triangular warning)."""
    pp = PropPainter(cam, [(x - 0.4, y0, z), (x + 0.4, 2.9, z)])
    if pp.pen is None:
        return None
    pp.box(x - 0.04, x + 0.04, y0, 2.3, z - 0.04, z + 0.04, (150, 152, 156))
    c = (x, 2.45, z - 0.05)
    if kind == 0:
        pp.ellipse3(c, 0.33, (196, 30, 36))
        pp.ellipse3(c, 0.25, (240, 240, 236))
    elif kind == 1:
        pp.ellipse3(c, 0.32, (30, 80, 170))
        a, b = cam.project(x - 0.15, 2.45, z - 0.06), cam.project(x + 0.15, 2.45, z - 0.06)
        pp.pen.line(a, b, 0.06 * cam.fy / z, (240, 240, 240))
    else:
        pp.face([(x - 0.36, 2.2, z - 0.05), (x + 0.36, 2.2, z - 0.05), (x, 2.82, z - 0.05)], (196, 30, 36))
        pp.face([(x - 0.25, 2.27, z - 0.06), (x + 0.25, 2.27, z - 0.06), (x, 2.7, z - 0.06)], (240, 240, 236))
    return pp.sprite()


def tree_sprite(cam: Camera, x: float, z: float, y0: float, rng: np.random.Generator) -> Sprite | None:
    """Street tree: trunk plus a crown of overlapping leaf clusters."""
    r = float(rng.uniform(1.3, 2.0))
    top = float(rng.uniform(5.0, 7.2))
    pp = PropPainter(cam, [(x - r - 0.5, y0, z - r), (x + r + 0.5, top + r * 0.6, z - r)])
    if pp.pen is None:
        return None
    pp.box(x - 0.12, x + 0.12, y0, top - r * 0.5, z - 0.12, z + 0.12, (84, 64, 48))
    base = mix_color((52, 92, 44), (96, 120, 52), float(rng.uniform(0, 1)))
    blobs = []
    for _ in range(26):
        dy = rng.normal(0, r * 0.32)
        # lower clusters are in shade, upper ones catch the light
        shade = float(np.clip(0.92 + dy / r * 0.35 + rng.normal(0, 0.08), 0.6, 1.25))
        blobs.append(
            (
                x + rng.normal(0, r * 0.42),
                top - r * 0.4 + dy,
                z + rng.normal(0, r * 0.3),
                float(rng.uniform(0.3, 0.55)) * r,
                shade,
            )
        )
    for bx, by, bz, br, shade in sorted(blobs, key=lambda q: -q[2]):
        pp.ellipse3((bx, by, max(bz, z - r * 0.8)), br, scale_color(base, shade))
    return pp.sprite()


def bollard_sprite(cam: Camera, x: float, z: float, y0: float) -> Sprite | None:
    pp = PropPainter(cam, [(x - 0.1, y0, z), (x + 0.1, y0 + 1.0, z)])
    if pp.pen is None:
        return None
    pp.box(x - 0.08, x + 0.08, y0, y0 + 0.95, z - 0.08, z + 0.08, (64, 64, 68))
    pp.face(_front_quad(x - 0.08, x + 0.08, y0 + 0.72, y0 + 0.82, z - 0.085), (230, 230, 226))
    return pp.sprite()


def bin_sprite(cam: Camera, x: float, z: float, y0: float, color: Color) -> Sprite | None:
    pp = PropPainter(cam, [(x - 0.35, y0, z - 0.3), (x + 0.35, y0 + 1.1, z - 0.3)])
    if pp.pen is None:
        return None
    pp.box(x - 0.3, x + 0.3, y0, y0 + 1.0, z - 0.3, z + 0.3, color)
    pp.box(x - 0.32, x + 0.32, y0 + 1.0, y0 + 1.08, z - 0.32, z + 0.32, scale_color(color, 0.7))
    return pp.sprite()


def planter_sprite(cam: Camera, x: float, z: float, y0: float, rng: np.random.Generator) -> Sprite | None:
    """Concrete flower box with a bush on top (a typical low occluder of legs)."""
    pp = PropPainter(cam, [(x - 0.5, y0, z - 0.8), (x + 0.5, y0 + 1.3, z - 0.8)])
    if pp.pen is None:
        return None
    pp.box(x - 0.4, x + 0.4, y0, y0 + 0.6, z - 0.75, z + 0.75, (160, 158, 150))
    green = mix_color((48, 96, 44), (110, 130, 60), float(rng.uniform(0, 1)))
    for k in range(7):
        dz = -0.55 + 1.1 * k / 6
        pp.ellipse3(
            (x + rng.normal(0, 0.1), y0 + 0.75 + rng.uniform(0, 0.25), z - 0.3 + dz * 0.3),
            float(rng.uniform(0.28, 0.4)),
            scale_color(green, float(rng.uniform(0.8, 1.15))),
        )
    return pp.sprite()


def bench_sprite(cam: Camera, x: float, z: float, y0: float, seat_h: float, side: int) -> Sprite | None:
    """Bench parallel to the facade (seat from z to z+1.8), backrest on the facade side."""
    z1 = z + 1.8
    back = x + side * 0.25
    pp = PropPainter(cam, [(x - 0.3, y0, z), (x + 0.3, y0 + seat_h + 0.45, z), (x, y0, z1)])
    if pp.pen is None:
        return None
    wood, metal = (132, 92, 58), (60, 60, 64)
    for zz in (z + 0.1, z1 - 0.2):
        pp.box(x - 0.2, x + 0.2, y0, y0 + seat_h - 0.05, zz, zz + 0.08, metal)
    pp.box(x - 0.24, x + 0.24, y0 + seat_h - 0.06, y0 + seat_h, z, z1, wood)
    pp.box(
        min(back, back - side * 0.05),
        max(back, back - side * 0.05),
        y0 + seat_h + 0.08,
        y0 + seat_h + 0.42,
        z,
        z1,
        wood,
    )
    return pp.sprite()


def column_sprite(
    cam: Camera, x: float, z: float, y0: float, rng: np.random.Generator
) -> tuple[Sprite | None, tuple]:
    """Advertising pillar; returns the sprite and the image rect of its poster panel (for a poster person)."""
    r, top = 0.6, y0 + 3.0
    pp = PropPainter(cam, [(x - r, y0, z - r), (x + r, top + 0.4, z - r)])
    if pp.pen is None:
        return None, ()
    body = (70, 86, 74)
    pp.face(_front_quad(x - r, x + r, y0, top, z), body)
    pp.ellipse3((x, top, z), r, scale_color(body, 0.8))
    pp.face(_front_quad(x - r * 1.05, x + r * 1.05, top, top + 0.3, z - r * 0.1), scale_color(body, 0.7))
    cols = [SIGN_COLORS[int(rng.integers(len(SIGN_COLORS)))] for _ in range(3)]
    pp.face(
        _front_quad(x - 0.5, x - 0.02, y0 + 0.6, y0 + 2.6, z - r * 0.8),
        mix_color(cols[0], (255, 255, 255), 0.3),
    )
    pp.face(
        _front_quad(x + 0.02, x + 0.5, y0 + 0.6, y0 + 2.6, z - r * 0.8),
        mix_color(cols[1], (255, 255, 255), 0.5),
    )
    panel = (cam.project(x + 0.02, y0 + 0.6, z - r * 0.8), cam.project(x + 0.5, y0 + 2.6, z - r * 0.8))
    return pp.sprite(), panel


def shadow(
    img: np.ndarray, cam: Camera, x: float, z: float, y: float, rx: float, rz: float, strength: float
) -> None:
    """Soft contact shadow on the ground under an object (multiplies the background)."""
    c = cam.project(x, y, z)
    ax = max(1.0, rx * cam.fx / z)
    ay = max(1.0, abs(cam.project(x, y, z - rz)[1] - cam.project(x, y, z + rz)[1]) / 2)
    x0, x1 = int(c[0] - ax * 1.6), int(c[0] + ax * 1.6) + 1
    y0, y1 = int(c[1] - ay * 1.6), int(c[1] + ay * 1.6) + 1
    h, w = img.shape[:2]
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        return
    xs = (np.arange(max(0, x0), min(w, x1), dtype=np.float32) - c[0]) / ax
    ys = (np.arange(max(0, y0), min(h, y1), dtype=np.float32) - c[1]) / ay
    d = ys[:, None] ** 2 + xs[None, :] ** 2
    f = 1.0 - strength * np.exp(-1.6 * d)
    img[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)] *= f[..., None]


def hood_mask(width: int, height: int, rise: float) -> np.ndarray:
    """Boolean mask of the ego-vehicle bonnet at the bottom of the frame (as in Cityscapes)."""
    xs = np.linspace(-1, 1, width, dtype=np.float32)
    top = height - rise * height * (1.0 - 0.35 * xs**2)
    ys = np.arange(height, dtype=np.float32)[:, None]
    return ys >= top[None, :]


def paint_hood(img: np.ndarray, mask: np.ndarray, light: Light) -> None:
    h = img.shape[0]
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return
    t = (np.arange(h, dtype=np.float32) - rows[0]) / max(1, h - rows[0])
    col = (34 + 40 * np.exp(-((t - 0.25) ** 2) / 0.01))[:, None, None] * np.array(
        [1.0, 1.0, 1.05], np.float32
    )
    col = np.broadcast_to(col, img.shape)
    img[mask] = col[mask] * (0.8 + 0.2 * light.brightness)
