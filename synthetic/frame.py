"""Lay out and render one synthetic street frame with CityPersons-style person annotations.

``plan_frame`` decides *what* is where (street, pedestrians, occluders, cars, props) in world metres;
``render_frame`` paints it back to front, recording which object owns each pixel.  A person's full box is
the box of its own drawn mask (clipped to the image); its visible box is the box of the pixels it still
owns after everything nearer has been drawn, so occlusion by cars, poles, other people or the frame border
is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from synthetic import scene as sc
from synthetic.drawing import mask_box, paste
from synthetic.person import (
    ANKLE,
    SHIN,
    Appearance,
    Pose,
    bicycle_sprite,
    person_sprite,
    sample_appearance,
)

INDIVIDUAL_LABELS = ("pedestrian", "rider", "sitting person", "person (other)")
REGION_LABELS = ("person group", "ignore")
LABELS = INDIVIDUAL_LABELS + REGION_LABELS
HOOD_ID = 1  # owner id of the ego-vehicle bonnet; objects start at 2
MIN_VISIBLE_PX = 12  # persons with fewer visible pixels (at any size) are not annotated


@dataclass
class Item:
    """One thing to draw. ``key`` is its painter depth (larger = farther = drawn first)."""

    kind: str
    x: float
    z: float
    y0: float = 0.0
    key: float = 0.0
    app: Appearance | None = None
    pose: Pose | None = None
    label: str | None = None  # CityPersons label of an individually annotated person
    region: int | None = None  # index into FramePlan.regions for group / ignore members
    params: dict = field(default_factory=dict)


@dataclass
class FramePlan:
    cam: sc.Camera
    street: sc.Street
    light: sc.Light
    items: list[Item]
    regions: list[str]  # label per region ("person group" / "ignore")
    reflection: Item | None = None
    edge_case: bool = False  # widen one right-edge box by 1-3 px (CityPersons-style annotation overshoot)
    hood_rise: float = 0.07


# --- placement helpers ----------------------------------------------------------------------------
class _Space:
    """Ground footprints already taken, so people and props do not stand inside each other."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def free(self, x0: float, x1: float, z0: float, z1: float, margin: float = 0.0) -> bool:
        return all(
            x1 + margin <= a or x0 - margin >= b or z1 + margin <= c or z0 - margin >= d
            for a, b, c, d in self.boxes
        )

    def take(self, x0: float, x1: float, z0: float, z1: float) -> None:
        self.boxes.append((x0, x1, z0, z1))


def _person_box(x: float, z: float, r: float = 0.3):
    return (x - r, x + r, z - r, z + r)


def _visible_x_range(cam: sc.Camera, z: float, slack_px: float) -> tuple[float, float]:
    """World X interval at depth z whose projection lies within the image (plus ``slack_px``)."""
    return cam.x_to_world(-slack_px, z), cam.x_to_world(cam.width + slack_px, z)


def _sample_ped_depth(rng: np.random.Generator) -> float:
    """Depth mixture: mostly the 'usable' band (120-250 px tall at 1024 high), some far, some near."""
    u = rng.random()
    if u < 0.72:
        return float(rng.uniform(16.5, 26.0))
    if u < 0.87:
        return float(rng.uniform(26.0, 48.0))
    return float(rng.uniform(8.5, 16.0))


def _spot_on_sidewalk(
    rng: np.random.Generator, cam: sc.Camera, street: sc.Street, z: float, height_m: float
) -> tuple[float, int] | None:
    """Random X on a sidewalk (or anywhere in a pedestrian zone) at depth z, visible up to a sliver past the
    left/right border."""
    slack = 0.08 * height_m * cam.fy / z
    vx0, vx1 = _visible_x_range(cam, z, slack)
    spans = []
    for a, b, side in street.walk_spans():
        a, b = max(a + 0.45, vx0), min(b - 0.45, vx1)
        if b > a:
            spans.append((a, b, side))
    if not spans:
        return None
    lens = np.array([b - a for a, b, _ in spans])
    a, b, side = spans[int(rng.choice(len(spans), p=lens / lens.sum()))]
    return float(rng.uniform(a, b)), side


def _stride_phase(rng: np.random.Generator) -> float:
    """Gait phase, biased toward mid-stride (legs apart) because that is when walkers are easiest to see."""
    return float(rng.choice([-0.5, 0.5]) * math.pi + rng.normal(0.0, 0.7))


def _sidewalk_pose(rng: np.random.Generator) -> Pose:
    facing = ["front", "back", "left", "right"][int(rng.choice(4, p=[0.3, 0.24, 0.23, 0.23]))]
    kind = "walk" if rng.random() < 0.82 or facing in ("left", "right") else "stand"
    phone = bool(facing == "front" and rng.random() < 0.18)
    return Pose(kind, facing, _stride_phase(rng), phone)


def _span_of(street: sc.Street, x: float) -> tuple[float, float]:
    for a, b, _ in street.walk_spans():
        if a <= x <= b:
            return (-street.walk[-1], street.walk[1]) if street.zone else (a, b)
    return (x, x)


# --- the plan -------------------------------------------------------------------------------------
class _Planner:
    def __init__(self, rng: np.random.Generator, cam: sc.Camera, street: sc.Street, pool: list[Appearance]):
        self.rng, self.cam, self.street = rng, cam, street
        self.items: list[Item] = []
        self.regions: list[str] = []
        self.space = _Space()
        order = rng.permutation(len(pool))
        self.pool = [pool[i] for i in order]  # identities are used at most once per frame

    def next_identity(self) -> Appearance | None:
        return self.pool.pop() if self.pool else None

    def add(self, item: Item) -> Item:
        if item.key == 0.0:
            item.key = item.z
        self.items.append(item)
        return item

    # pedestrians ------------------------------------------------------------------------------------------
    def pedestrians(self, n: int, edge_case: bool, core: bool = False) -> None:
        """Place ``n`` pedestrians; ``core`` = only in the depth band whose boxes suit the crop filter."""
        placed = 0
        tries = 0
        while placed < n and tries < 60:
            tries += 1
            app = self.pool[-1] if self.pool else None
            if app is None:
                return
            spot = self._edge_spot() if edge_case and placed == 0 else None
            if spot is None:
                spot = self._ped_spot(app, core)
            if spot is None:
                continue
            x, z, on_walk, pose = spot
            if not self.space.free(*_person_box(x, z), margin=0.35):
                continue
            # people standing in line of sight of each other overlap on screen; keep only some of those
            if self._screen_overlap(x, z, app.height_m) and self.rng.random() < 0.88:
                continue
            self.next_identity()
            y0 = self.street.walk_y if on_walk else 0.0
            ped = self.add(Item("person", x, z, y0, app=app, pose=pose, label="pedestrian"))
            self.space.take(*_person_box(x, z))
            placed += 1
            if placed < n and on_walk and self.rng.random() < 0.16:
                placed += self._companion(ped)
            elif on_walk and self.rng.random() < 0.22:
                self._occluder_for(ped)

    def clear_core_count(self) -> int:
        """Pedestrians expected to be medium-sized on screen and apart from other pedestrians."""
        lo, hi = 135.0 * self.cam.height / 1024, 240.0 * self.cam.height / 1024
        n = 0
        for it in self.items:
            if it.label == "pedestrian" and lo <= it.app.height_m * self.cam.fy / it.z <= hi:
                n += not self._screen_overlap(it.x, it.z, it.app.height_m, skip=it)
        return n

    def _screen_box(self, x: float, z: float, height_m: float) -> tuple[float, float, float, float]:
        px, py = self.cam.project(x, 0.0, z)
        sx, sy = self.cam.scale(z)
        return (px - 0.2 * height_m * sx, py - height_m * sy, px + 0.2 * height_m * sx, py)

    def _screen_overlap(self, x: float, z: float, height_m: float, skip: Item | None = None) -> bool:
        a = self._screen_box(x, z, height_m)
        for it in self.items:
            if it.label != "pedestrian" or it is skip:
                continue
            b = self._screen_box(it.x, it.z, it.app.height_m)
            iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            if iw > 0 and ih > 0:
                inter = iw * ih
                union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
                if inter / union >= 0.08:
                    return True
        return False

    def _edge_spot(self):
        """A pedestrian cut by the right image border (exercises border clipping + the edge-fix case)."""
        cam, st, rng = self.cam, self.street, self.rng
        a, b, _ = st.walk_spans()[1]
        for _ in range(10):
            x = float(rng.uniform(max(a + 0.45, 1.0), b - 0.45))
            z = cam.fx * x / max(1.0, cam.width - cam.vx)
            if 9.0 <= z <= 40.0:
                return x, z, True, Pose("walk", "left", _stride_phase(rng))
        return None

    def _ped_spot(self, app: Appearance, core: bool = False):
        rng, st, cam = self.rng, self.street, self.cam
        if st.zebra is not None and rng.random() < 0.16 and not core:
            z = float(rng.uniform(*st.zebra))
            vx0, vx1 = _visible_x_range(cam, z, 0.0)
            a, b = max(-st.road + 0.4, vx0), min(st.road - 0.4, vx1)
            if b <= a:
                return None
            pose = Pose("walk", "left" if rng.random() < 0.5 else "right", _stride_phase(rng))
            return float(rng.uniform(a, b)), z, False, pose
        z = float(rng.uniform(17.0, 25.0)) if core else _sample_ped_depth(rng)
        if st.in_cross(z, 1.0):
            return None
        got = _spot_on_sidewalk(rng, cam, st, z, app.height_m)
        if got is None:
            return None
        return got[0], z, True, _sidewalk_pose(rng)

    def _companion(self, ped: Item) -> int:
        """A second person walking right next to ``ped`` (overlapping boxes)."""
        app = self.pool[-1] if self.pool else None
        if app is None:
            return 0
        rng = self.rng
        side = 1.0 if rng.random() < 0.5 else -1.0
        x = ped.x + side * float(rng.uniform(0.32, 0.6))
        z = ped.z + float(rng.uniform(-0.7, 0.7))
        lo, hi = _span_of(self.street, ped.x)
        if not lo + 0.3 < x < hi - 0.3:
            return 0
        self.next_identity()
        pose = Pose(ped.pose.kind, ped.pose.facing, ped.pose.phase + float(rng.uniform(0.6, 2.5)))
        self.add(Item("person", x, z, ped.y0, app=app, pose=pose, label="pedestrian"))
        self.space.take(*_person_box(x, z))
        return 1

    def _occluder_for(self, ped: Item) -> None:
        """Put something between the camera and ``ped`` so that part of the person is hidden."""
        rng, st = self.rng, self.street
        kind = ["car", "planter", "bin", "bollard", "lamp"][
            int(rng.choice(5, p=[0.16, 0.34, 0.2, 0.16, 0.14]))
        ]
        side = 1 if ped.x > 0 else -1
        if kind == "car" and not st.parking:
            kind = "planter"
        if kind == "car":
            xc = side * (st.road - 1.1)
            xn = abs(ped.x) / ped.z
            lo = max((abs(xc) - 0.6) / xn, 4.0)
            hi = min((abs(xc) + 0.9) / xn, ped.z - 1.0)
            if hi > lo:
                z0 = float(rng.uniform(lo, hi))
                self._car(xc, z0, float(rng.uniform(4.1, 4.8)), oncoming=False)
            return
        zo = ped.z - float(rng.uniform(0.8, 2.6))
        xo = ped.x * zo / ped.z + float(rng.uniform(-0.3, 0.3))
        a, b = _span_of(st, ped.x)
        if (
            zo < 4.0
            or not a + 0.3 < xo < b - 0.3
            or not self.space.free(*_person_box(xo, zo, 0.4), margin=0.1)
        ):
            return
        self._prop(kind, xo, zo, side)

    # other individuals ------------------------------------------------------------------------------------
    def sitting(self, n: int) -> None:
        rng, st = self.rng, self.street
        for _ in range(n):
            app = self.pool[-1] if self.pool else None
            if app is None:
                return
            side = 1 if rng.random() < 0.5 else -1
            x = side * (st.walk[side] - 0.6)
            z = float(rng.uniform(11.0, 34.0))
            vx0, vx1 = _visible_x_range(self.cam, z, 0.0)
            if (
                not vx0 < x < vx1
                or st.in_cross(z, 2.5)
                or not self.space.free(x - 0.4, x + 0.4, z - 0.8, z + 1.2, 0.3)
            ):
                continue
            self.next_identity()
            self.space.take(x - 0.4, x + 0.4, z - 0.8, z + 1.2)
            seat = (SHIN + ANKLE + 0.012) * app.height_m
            y0 = st.walk_y
            self.add(Item("bench", x, z - 0.7, y0, key=z + 0.05, params={"seat": seat, "side": side}))
            pose = Pose("sit", "left" if side > 0 else "right")
            self.add(Item("person", x, z, y0, app=app, pose=pose, label="sitting person"))

    def crouching(self) -> None:
        app = self.pool[-1] if self.pool else None
        if app is None:
            return
        z = float(self.rng.uniform(12.0, 32.0))
        got = _spot_on_sidewalk(self.rng, self.cam, self.street, z, app.height_m)
        if (
            got is None
            or self.street.in_cross(z, 1.0)
            or not self.space.free(*_person_box(got[0], z), margin=0.4)
        ):
            return
        self.next_identity()
        self.space.take(*_person_box(got[0], z))
        pose = Pose("crouch", "left" if self.rng.random() < 0.5 else "right")
        self.add(Item("person", got[0], z, self.street.walk_y, app=app, pose=pose, label="person (other)"))

    def riders(self, n: int) -> None:
        rng, st = self.rng, self.street
        lane = st.walk[1] - 1.5 if st.zone else st.road - (2.4 if st.parking else 0.8)
        for _ in range(n):
            app = self.pool[-1] if self.pool else None
            if app is None:
                return
            if st.cross is not None and rng.random() < 0.5:
                z = float(rng.uniform(st.cross[0] + 3.5, st.cross[1] - 3.5))
            else:
                z = float(rng.uniform(12.0, 42.0))
            vx0, vx1 = _visible_x_range(self.cam, z, 0.0)
            a, b = max(-lane, vx0 + 1.0), min(lane, vx1 - 1.0)
            if b <= a:
                continue
            x = float(rng.uniform(a, b))
            if not self.space.free(x - 1.0, x + 1.0, z - 0.4, z + 0.4, 0.3):
                continue
            self.next_identity()
            self.space.take(x - 1.0, x + 1.0, z - 0.4, z + 0.4)
            facing = "left" if rng.random() < 0.5 else "right"
            color = sc.CAR_COLORS[int(rng.integers(len(sc.CAR_COLORS)))]
            self.add(Item("bike", x, z, 0.0, key=z + 0.02, params={"color": color, "facing": facing}))
            pose = Pose("ride", facing, float(rng.uniform(0, 2 * math.pi)))
            self.add(Item("person", x, z, 0.0, app=app, pose=pose, label="rider"))

    # --- groups and ignore regions ----------------------------------------------------------------
    def cluster(self, label: str, zr: tuple[float, float], count: int, spacing: float) -> None:
        rng, st = self.rng, self.street
        z = float(rng.uniform(*zr))
        if st.in_cross(z, 2.0):
            return
        got = _spot_on_sidewalk(rng, self.cam, st, z, 1.7)
        if got is None:
            return
        x0, side = got
        a, b = _span_of(st, x0)
        region = len(self.regions)
        self.regions.append(label)
        for k in range(count):
            x = float(
                np.clip(x0 + (k - count / 2) * spacing + rng.normal(0, spacing * 0.2), a + 0.3, b - 0.3)
            )
            zz = z + float(rng.uniform(-0.5, 0.5))
            app = sample_appearance(rng, -1)
            self.add(Item("person", x, zz, st.walk_y, app=app, pose=_sidewalk_pose(rng), region=region))
        self.space.take(x0 - count * spacing, x0 + count * spacing, z - 0.6, z + 0.6)

    def poster(self) -> None:
        rng, st = self.rng, self.street
        side = 1 if rng.random() < 0.5 else -1
        z = float(rng.uniform(14.0, 40.0))
        x = side * float(rng.uniform(st.road + 1.0, max(st.road + 1.1, st.walk[side] - 1.0)))
        vx0, vx1 = _visible_x_range(self.cam, z, 0.0)
        if (
            not vx0 + 1 < x < vx1 - 1
            or st.in_cross(z, 2.0)
            or not self.space.free(x - 0.7, x + 0.7, z - 0.7, z + 0.7, 0.3)
        ):
            return
        self.space.take(x - 0.7, x + 0.7, z - 0.7, z + 0.7)
        region = len(self.regions)
        self.regions.append("ignore")
        self.add(
            Item("column", x, z, st.walk_y, params={"region": region, "app": sample_appearance(rng, -1)})
        )

    def reflection(self) -> Item | None:
        rng, st = self.rng, self.street
        shops = [
            b for b in st.buildings if b.shop is not None and b.z0 > 10 and b.z1 < 45 and b.z1 - b.z0 > 6
        ]
        if not shops:
            return None
        b = shops[int(rng.integers(len(shops)))]
        z = float(rng.uniform(b.z0 + 1.5, b.z1 - 1.5))
        vx0, vx1 = _visible_x_range(self.cam, z, 0.0)
        if not vx0 < b.line < vx1:
            return None
        region = len(self.regions)
        self.regions.append("ignore")
        pose = Pose("walk", "left" if rng.random() < 0.5 else "right", float(rng.uniform(0, 6.28)))
        return Item("reflection", b.line, z, 0.65, app=sample_appearance(rng, -1), pose=pose, region=region)

    # --- vehicles and props -----------------------------------------------------------------------
    def _car(self, xc: float, z0: float, length: float, oncoming: bool) -> bool:
        if not self.space.free(xc - 1.0, xc + 1.0, z0, z0 + length, 0.4):
            return False
        self.space.take(xc - 1.0, xc + 1.0, z0, z0 + length)
        color = sc.CAR_COLORS[int(self.rng.integers(len(sc.CAR_COLORS)))]
        color = sc.scale_color(color, float(self.rng.uniform(0.9, 1.05)))
        self.add(Item("car", xc, z0, 0.0, params={"color": color, "len": length, "oncoming": oncoming}))
        return True

    def parked_cars(self) -> None:
        st, rng = self.street, self.rng
        if not st.parking:
            return
        for side in (-1, 1):
            z = float(rng.uniform(3.0, 8.0))
            while z < 95.0:
                length = float(rng.uniform(4.1, 4.8))
                blocked = (
                    st.in_cross(z, 2.0)
                    or st.in_cross(z + length, 2.0)
                    or st.in_zebra(z, 2.0)
                    or st.in_zebra(z + length, 2.0)
                )
                if not blocked and rng.random() < 0.22:
                    self._car(side * (st.road - 1.1), z, length, oncoming=False)
                z += length + float(rng.uniform(0.8, 4.0))

    def moving_cars(self, n: int) -> None:
        st, rng = self.street, self.rng
        if st.zone:
            return
        lane = (st.road - 2.2) / 2 if st.parking else st.road / 2
        for _ in range(n):
            side = 1 if rng.random() < 0.6 else -1
            z0 = float(rng.uniform(14.0, 80.0))
            if st.in_zebra(z0, 3.0) or st.in_zebra(z0 + 4.5, 3.0):
                continue
            self._car(side * lane, z0, float(rng.uniform(4.2, 4.8)), oncoming=side < 0)

    def _prop(self, kind: str, x: float, z: float, side: int) -> None:
        r = {"lamp": 0.2, "sign": 0.15, "tree": 0.4, "bollard": 0.15, "bin": 0.35, "planter": 0.5}[kind]
        zr = 0.8 if kind == "planter" else r
        self.space.take(x - r, x + r, z - zr, z + zr)
        self.add(
            Item(kind, x, z, self.street.walk_y, params={"side": side, "sign": int(self.rng.integers(3))})
        )

    def street_furniture(self) -> None:
        st, rng = self.street, self.rng
        trees = rng.random() < 0.5
        for side in (-1, 1):
            xl = side * (st.walk[side] - 1.2 if st.zone else st.road + 0.45)
            z = float(rng.uniform(5.0, 20.0))
            while z < 120.0:
                if not st.in_cross(z, 1.0) and self.space.free(xl - 0.2, xl + 0.2, z - 0.2, z + 0.2, 0.5):
                    self._prop("lamp", xl, z, side)
                z += float(rng.uniform(18.0, 30.0))
            if trees:
                xt = side * (st.walk[side] * 0.45 if st.zone else st.road + 1.15)
                z = float(rng.uniform(6.0, 14.0))
                while z < 110.0:
                    if not st.in_cross(z, 2.0) and self.space.free(xt - 0.4, xt + 0.4, z - 0.4, z + 0.4, 0.5):
                        self._prop("tree", xt, z, side)
                    z += float(rng.uniform(9.0, 15.0))
        for _ in range(0 if st.zone else int(rng.integers(1, 4))):
            side = 1 if rng.random() < 0.5 else -1
            x, z = side * (st.road + 0.35), float(rng.uniform(7.0, 60.0))
            if not st.in_cross(z, 1.0) and self.space.free(x - 0.2, x + 0.2, z - 0.2, z + 0.2, 0.6):
                self._prop("sign", x, z, side)
        for _ in range(int(rng.integers(0, 4))):
            side = 1 if rng.random() < 0.5 else -1
            a, b, _ = st.walk_spans()[0 if side < 0 else 1]
            x, z = float(rng.uniform(a + 0.3, b - 0.3)), float(rng.uniform(6.0, 50.0))
            kind = "bin" if rng.random() < 0.5 else "bollard"
            if not st.in_cross(z, 1.0) and self.space.free(x - 0.4, x + 0.4, z - 0.4, z + 0.4, 0.6):
                self._prop(kind, x, z, side)


def plan_frame(
    rng: np.random.Generator, width: int, height: int, pool: list[Appearance], edge_case: bool = False
) -> FramePlan:
    """Randomly lay out one frame. ``pool`` = identities this frame may show (each at most once)."""
    cam = sc.sample_camera(rng, width, height)
    street = sc.sample_street(rng)
    light = sc.sample_light(rng)
    pl = _Planner(rng, cam, street, pool)
    # order matters: people first (they get free ground), then what hides them, then the filler
    pl.pedestrians(int(rng.integers(8, 14)), edge_case)
    for _ in range(3):  # top up frames where few people ended up at a usable size
        if pl.clear_core_count() >= 4:
            break
        pl.pedestrians(1, False, core=True)
    pl.sitting(int(rng.choice(3, p=[0.5, 0.35, 0.15])))
    if rng.random() < 0.3:
        pl.crouching()
    pl.riders(int(rng.choice(3, p=[0.4, 0.42, 0.18])))
    if rng.random() < 0.5:
        pl.cluster("person group", (32.0, 55.0), int(rng.integers(3, 6)), 0.42)
    if rng.random() < 0.45:
        pl.cluster("ignore", (62.0, 110.0), int(rng.integers(4, 9)), 0.5)
    if rng.random() < 0.25:
        pl.poster()
    reflection = pl.reflection() if rng.random() < 0.3 else None
    pl.parked_cars()
    pl.moving_cars(int(rng.integers(0, 3)))
    pl.street_furniture()
    return FramePlan(
        cam, street, light, pl.items, pl.regions, reflection, edge_case, float(rng.uniform(0.05, 0.085))
    )


# --- rendering ------------------------------------------------------------------------------------
def _sprite_for(item: Item, cam: sc.Camera, light: sc.Light, rng: np.random.Generator):
    x, z, y0 = item.x, item.z, item.y0
    if item.kind == "person":
        foot = cam.project(x, y0, z)
        return person_sprite(item.app, item.pose, foot, cam.scale(z), cam.size, light.sun_side)
    if item.kind == "bike":
        p = item.params
        return bicycle_sprite(p["color"], p["facing"], cam.project(x, y0, z), cam.scale(z), cam.size)
    if item.kind == "car":
        p = item.params
        return sc.car_sprite(cam, x, z, p["color"], p["oncoming"], p["len"])
    if item.kind == "lamp":
        return sc.lamp_sprite(cam, x, z, y0)
    if item.kind == "sign":
        return sc.sign_sprite(cam, x, z, y0, item.params["sign"])
    if item.kind == "tree":
        return sc.tree_sprite(cam, x, z, y0, rng)
    if item.kind == "bollard":
        return sc.bollard_sprite(cam, x, z, y0)
    if item.kind == "bin":
        return sc.bin_sprite(cam, x, z, y0, sc.SIGN_COLORS[int(rng.integers(len(sc.SIGN_COLORS)))])
    if item.kind == "planter":
        return sc.planter_sprite(cam, x, z, y0, rng)
    if item.kind == "bench":
        return sc.bench_sprite(cam, x, z, y0, item.params["seat"], item.params["side"])
    raise ValueError(item.kind)


def _shadows(bg: np.ndarray, plan: FramePlan) -> None:
    cam = plan.cam
    strength = 0.45 if plan.light.name in ("sunny", "evening") else 0.3
    for it in plan.items:
        if it.kind == "person":
            sc.shadow(bg, cam, it.x, it.z, it.y0, 0.35, 0.35, strength)
        elif it.kind == "car":
            L = it.params["len"]
            sc.shadow(bg, cam, it.x, it.z + L / 2, 0.0, 1.1, L / 2 + 0.3, strength + 0.15)
        elif it.kind in ("tree", "planter", "bin", "bench"):
            sc.shadow(bg, cam, it.x, it.z, it.y0, 0.6, 0.6, strength * 0.7)


@dataclass
class Annotated:
    label: str
    box: tuple[int, int, int, int]  # full box, inclusive x0, y0, x1, y1
    vis: tuple[int, int, int, int]  # visible box
    identity: int | None
    owner_id: int | None = None  # the value of this person's pixels in render_frame's person map (None: a region)


def render_frame(
    plan: FramePlan, rng: np.random.Generator
) -> tuple[np.ndarray, list[Annotated], np.ndarray]:
    """Paint the plan; returns the uint8 RGB frame, the annotated persons/regions and the person map (int32: the
    owner id of every pixel a person drew that is still visible, 0 elsewhere; ``Annotated.owner_id`` names an
    individual's pixels, people of groups and ignore regions and hidden ones have their own ids too)."""
    cam, light = plan.cam, plan.light
    canvas = sc.paint_background(cam, plan.street, light, rng)
    _shadows(canvas, plan)
    owner = np.zeros((cam.height, cam.width), np.int32)
    full: dict[int, tuple] = {}
    region_ids: dict[int, list[int]] = {}
    next_id = HOOD_ID + 1
    if plan.reflection is not None:
        it = plan.reflection
        sx, sy = cam.scale(it.z)
        sp = person_sprite(it.app, it.pose, cam.project(it.x, it.y0, it.z), (sx * 0.7, sy), cam.size)
        box = paste(canvas, owner, sp, next_id, opacity=0.3) if sp is not None else None
        if box is not None:
            region_ids.setdefault(it.region, []).append((next_id, box))
        next_id += 1
    order = sorted(range(len(plan.items)), key=lambda i: (-plan.items[i].key, i))
    for i in order:
        it = plan.items[i]
        oid = next_id
        next_id += 1
        if it.kind == "column":
            next_id = _column(canvas, owner, it, cam, rng, oid, region_ids)
            continue
        sp = _sprite_for(it, cam, light, rng)
        box = paste(canvas, owner, sp, oid) if sp is not None else None
        if box is None:
            continue
        if it.label is not None:
            full[oid] = (it, box)
        elif it.region is not None:
            region_ids.setdefault(it.region, []).append((oid, box))
    hood = sc.hood_mask(cam.width, cam.height, plan.hood_rise)
    sc.paint_hood(canvas, hood, light)
    owner[hood] = HOOD_ID
    img = _finish(canvas, light, rng)
    person_ids = set(full) | {oid for members in region_ids.values() for oid, _ in members}
    person_map = np.where(np.isin(owner, sorted(person_ids)), owner, 0).astype(np.int32)
    return img, _annotate(owner, full, region_ids, plan.regions), person_map


def _column(canvas, owner, it: Item, cam: sc.Camera, rng, oid: int, region_ids: dict) -> int:
    """Advertising pillar with a person on its poster (an 'ignore' region, like real CityPersons)."""
    sp, panel = sc.column_sprite(cam, it.x, it.z, it.y0, rng)
    if sp is None:
        return oid + 1
    paste(canvas, owner, sp, oid)
    (px0, py1), (px1, py0) = panel
    ph = (py1 - py0) * 0.8
    app = it.params["app"]
    scale = ph / (app.height_m * 1.02)
    psp = person_sprite(
        app, Pose("stand", "front"), ((px0 + px1) / 2, py1 - 0.1 * ph), (scale, scale), cam.size
    )
    box = paste(canvas, owner, psp, oid + 1) if psp is not None else None
    if box is not None:
        region_ids.setdefault(it.params["region"], []).append((oid + 1, box))
    return oid + 2


def _finish(canvas: np.ndarray, light: sc.Light, rng: np.random.Generator) -> np.ndarray:
    """Time-of-day tint + brightness, a touch of sensor noise, quantise to uint8."""
    tint = np.array(light.tint, np.float32) * light.brightness
    canvas *= tint
    noise = rng.normal(0.0, 1.6, canvas.shape[:2]).astype(np.float32)
    canvas += noise[..., None]
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def _visible_box(owner: np.ndarray, oid: int, box: tuple[int, int, int, int]):
    x0, y0, x1, y1 = box
    return mask_box(owner[y0 : y1 + 1, x0 : x1 + 1] == oid, x0, y0)


def _annotate(owner: np.ndarray, full: dict, region_ids: dict, regions: list[str]) -> list[Annotated]:
    out: list[Annotated] = []
    for oid, (it, box) in full.items():
        x0, y0, x1, y1 = box
        m = owner[y0 : y1 + 1, x0 : x1 + 1] == oid
        if int(m.sum()) < MIN_VISIBLE_PX:
            continue  # hidden behind something: not annotated (as in CityPersons)
        vis = mask_box(m, x0, y0)
        if it.label in ("sitting person", "person (other)"):
            box = vis  # CityPersons: full-body boxes only for pedestrians and riders
        out.append(Annotated(it.label, box, vis, it.app.identity, oid))
    for region, members in region_ids.items():
        boxes = [b for b in (_visible_box(owner, i, box) for i, box in members) if b is not None]
        if not boxes:
            continue
        u = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        out.append(Annotated(regions[region], u, u, None))
    return out
