"""Procedural people (and bicycles) for the synthetic street generator (``make_demo_data``).

A person's *identity* is an :class:`Appearance` (height, build, skin, hair, clothes, bag) that stays fixed
across frames; a *pose* (walk/stand/sit/crouch/ride, facing, stride phase) changes per frame.  Skeletons are
built in metres in a figure frame (u forward/lateral, v up, feet at v=0) and mapped to image pixels with the
perspective scale of the person's depth, so the same identity drawn farther away is smaller.

Side views are always designed facing right; facing left is drawn through a mirrored :class:`Pen`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthetic.drawing import Color, Pen, Sprite, clip_rect, mix_color, scale_color

# --- palettes (RGB) -------------------------------------------------------------------------------
SKIN_TONES: list[Color] = [
    (250, 222, 196),
    (238, 196, 162),
    (222, 174, 136),
    (196, 138, 100),
    (160, 106, 72),
    (118, 78, 54),
    (86, 58, 42),
]
HAIR_COLORS: dict[str, Color] = {
    "black": (24, 22, 22),
    "dark brown": (56, 38, 28),
    "brown": (104, 72, 46),
    "blond": (206, 176, 116),
    "red": (150, 68, 38),
    "grey": (152, 150, 148),
    "white": (226, 224, 218),
}
CLOTH_COLORS: dict[str, Color] = {
    "black": (30, 30, 33),
    "white": (234, 234, 230),
    "light grey": (182, 182, 180),
    "grey": (108, 108, 112),
    "navy": (30, 40, 82),
    "blue": (48, 88, 172),
    "denim": (66, 92, 134),
    "light blue": (142, 182, 222),
    "red": (184, 34, 40),
    "burgundy": (112, 30, 46),
    "green": (48, 122, 62),
    "olive": (100, 106, 54),
    "khaki": (172, 156, 110),
    "beige": (214, 194, 162),
    "brown": (112, 74, 48),
    "yellow": (228, 192, 40),
    "orange": (228, 120, 40),
    "pink": (228, 140, 172),
    "purple": (102, 60, 132),
    "teal": (38, 130, 132),
}
TROUSER_COLORS = ["denim", "black", "grey", "navy", "khaki", "beige", "brown", "light grey", "olive"]
SHOE_COLORS = ["black", "white", "brown", "grey", "navy", "red"]

HAIR_STYLES = ["short", "long", "ponytail", "bun", "bald", "cap", "beanie"]
TOP_KINDS = ["t-shirt", "sweater", "jacket", "coat"]
PATTERNS = ["solid", "stripes", "checks", "vstripes"]
BOTTOM_KINDS = ["trousers", "shorts", "skirt"]
BAGS = ["none", "backpack", "shoulder bag", "handbag"]

# --- body proportions, fractions of body height ---------------------------------------------------
ANKLE = 0.028
THIGH = 0.245
SHIN = 0.245
TORSO = 0.29
UPPER_ARM = 0.18
FOREARM = 0.165

# --- bicycle geometry in metres, facing right, ground at v=0 --------------------------------------
WHEEL_R = 0.34
BIKE = {
    "rear": (-0.52, WHEEL_R),
    "front": (0.53, WHEEL_R),
    "crank": (0.0, 0.30),
    "seat": (-0.15, 0.84),
    "saddle": (-0.17, 0.93),
    "head": (0.42, 0.86),
    "bar": (0.36, 1.02),
}
CRANK_R = 0.17


def _hexcol(c: Color) -> str:
    r, g, b = (int(round(v)) for v in c)
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True)
class Appearance:
    """Everything that makes one synthetic person recognisable across frames."""

    identity: int
    height_m: float
    build: float  # width multiplier (shoulders, limbs)
    skin: Color
    hair_style: str
    hair_name: str
    beard: bool
    top_kind: str
    top_name: str
    top_pattern: str
    accent_name: str
    bottom_kind: str
    bottom_name: str
    tights: bool  # dark tights under skirt/shorts instead of bare legs
    shoe_name: str
    bag: str
    bag_name: str

    @property
    def girth(self) -> float:
        """Width multiplier including clothing bulk (jackets and coats are wider)."""
        return self.build * (1.08 if self.top_kind in ("jacket", "coat") else 1.0)

    @property
    def hair(self) -> Color:
        return HAIR_COLORS[self.hair_name]

    @property
    def top(self) -> Color:
        return CLOTH_COLORS[self.top_name]

    @property
    def accent(self) -> Color:
        return CLOTH_COLORS[self.accent_name]

    @property
    def bottom(self) -> Color:
        return CLOTH_COLORS[self.bottom_name]

    @property
    def shoes(self) -> Color:
        return CLOTH_COLORS[self.shoe_name]

    @property
    def bag_color(self) -> Color:
        return CLOTH_COLORS[self.bag_name]

    def describe(self) -> dict:
        """Short human-readable summary stored in identities.json."""
        top = (
            self.top_name
            if self.top_pattern == "solid"
            else f"{self.top_name}/{self.accent_name} {self.top_pattern}"
        )
        hair = "bald" if self.hair_style == "bald" else f"{self.hair_style} {self.hair_name}"
        legs = " with tights" if self.tights and self.bottom_kind != "trousers" else ""
        return {
            "height_m": round(self.height_m, 2),
            "build": round(self.build, 2),
            "skin": _hexcol(self.skin),
            "hair": hair + (", beard" if self.beard else ""),
            "top": f"{top} {self.top_kind}",
            "bottom": f"{self.bottom_name} {self.bottom_kind}{legs}",
            "shoes": self.shoe_name,
            "bag": "none" if self.bag == "none" else f"{self.bag_name} {self.bag}",
        }


def _pick(rng: np.random.Generator, items: list[str], p: list[float] | None = None) -> str:
    return items[int(rng.choice(len(items), p=p))]


def sample_appearance(rng: np.random.Generator, identity: int) -> Appearance:
    """Draw a random, plausible outfit/body for one identity."""
    cloth = list(CLOTH_COLORS)
    style = _pick(rng, HAIR_STYLES, [0.3, 0.2, 0.1, 0.07, 0.08, 0.13, 0.12])
    top_name = _pick(rng, cloth)
    accent = _pick(rng, [c for c in cloth if c != top_name])
    bottom_kind = _pick(rng, BOTTOM_KINDS, [0.68, 0.1, 0.22])
    bottom_pool = TROUSER_COLORS if bottom_kind == "trousers" else cloth
    return Appearance(
        identity=identity,
        height_m=float(np.clip(rng.normal(1.73, 0.08), 1.55, 1.95)),
        build=float(rng.uniform(0.88, 1.22)),
        skin=SKIN_TONES[int(rng.integers(len(SKIN_TONES)))],
        hair_style=style,
        hair_name=_pick(rng, list(HAIR_COLORS), [0.26, 0.24, 0.16, 0.14, 0.06, 0.1, 0.04]),
        beard=bool(style in ("short", "bald", "cap") and rng.random() < 0.25),
        top_kind=_pick(rng, TOP_KINDS, [0.3, 0.22, 0.3, 0.18]),
        top_name=top_name,
        top_pattern=_pick(rng, PATTERNS, [0.58, 0.2, 0.12, 0.1]),
        accent_name=accent,
        bottom_kind=bottom_kind,
        bottom_name=_pick(rng, bottom_pool),
        tights=bool(rng.random() < 0.4),
        shoe_name=_pick(rng, SHOE_COLORS),
        bag=_pick(rng, BAGS, [0.42, 0.24, 0.19, 0.15]),
        bag_name=_pick(rng, ["black", "brown", "grey", "navy", "red", "beige", "olive", "teal"]),
    )


@dataclass(frozen=True)
class Pose:
    """Per-frame body configuration."""

    kind: str = "walk"  # walk | stand | sit | crouch | ride
    facing: str = "right"  # right | left | front | back
    phase: float = 0.0  # gait / pedal phase in radians
    phone: bool = False  # holds a phone in front of the chest (front view)


# --- small geometry helpers -----------------------------------------------------------------------
def _add(a, b, s: float = 1.0):
    return (a[0] + s * b[0], a[1] + s * b[1])


def _dir(angle: float, length: float):
    """Vector of ``length`` at ``angle`` from straight down, positive = forward (+u)."""
    return (length * math.sin(angle), -length * math.cos(angle))


def _ik(root, end, l1: float, l2: float, bend_sign: float):
    """Middle joint of a two-segment limb from ``root`` to ``end`` (knee forward: +1, elbow down: -1 on v)."""
    dx, dy = end[0] - root[0], end[1] - root[1]
    d = max(1e-6, math.hypot(dx, dy))
    d_c = min(max(d, abs(l1 - l2) + 1e-4), l1 + l2 - 1e-4)
    along = (l1 * l1 - l2 * l2 + d_c * d_c) / (2 * d_c)
    perp = math.sqrt(max(0.0, l1 * l1 - along * along))
    ux, uy = dx / d, dy / d
    nx, ny = uy, -ux  # one of the two normals; pick the one matching the bend direction
    if (bend_sign > 0 and nx < 0) or (bend_sign < 0 and ny > 0):
        nx, ny = -nx, -ny
    return (root[0] + ux * along + nx * perp, root[1] + uy * along + ny * perp)


class _Fig:
    """Figure-frame (metres) -> image mapping plus the pen, shared by all body-part painters."""

    def __init__(self, pen: Pen, foot: tuple[float, float], sx: float, sy: float):
        self.pen, self.fx, self.fy, self.sx, self.sy = pen, foot[0], foot[1], sx, sy

    def p(self, uv):
        return (self.fx + uv[0] * self.sx, self.fy - uv[1] * self.sy)

    def ps(self, pts):
        return [self.p(q) for q in pts]

    def limb(self, a, b, width_m: float, color) -> None:
        self.pen.line(self.p(a), self.p(b), width_m * self.sy, color)

    def ellipse(self, c, ru: float, rv: float, color, angle: float = 0.0) -> None:
        self.pen.ellipse(self.p(c), (ru * self.sx, rv * self.sy), color, angle)

    def poly(self, pts, color) -> None:
        self.pen.poly(self.ps(pts), color)


# --- clothing colour helpers ----------------------------------------------------------------------
def _sleeve_colors(app: Appearance) -> tuple[Color, Color]:
    """(upper arm, forearm) colours: short sleeves show skin on the forearm."""
    if app.top_kind == "t-shirt":
        return app.top, app.skin
    return app.top, app.top


def _leg_colors(app: Appearance) -> tuple[Color, Color]:
    """(thigh, shin) colours."""
    bare = (52, 46, 50) if app.tights else app.skin
    if app.bottom_kind == "trousers":
        return app.bottom, app.bottom
    if app.bottom_kind == "shorts":
        return app.bottom, bare
    return bare, bare


def _pattern_period(app: Appearance, fig: _Fig) -> float:
    return max(1.5, 0.028 * app.height_m * fig.sy) * (1.6 if app.top_pattern == "checks" else 1.0)


# --- side view ------------------------------------------------------------------------------------
def _side_joints(app: Appearance, pose: Pose) -> dict:
    """Joint positions (metres, facing right) for walk/stand/sit/crouch/ride."""
    h = app.height_m
    th, sh, ua, fa = THIGH * h, SHIN * h, UPPER_ARM * h, FOREARM * h
    j: dict = {}
    if pose.kind in ("walk", "stand"):
        amp = 0.4 if pose.kind == "walk" else 0.06
        legs = []
        for ph in (pose.phase, pose.phase + math.pi):  # near leg, far leg
            a = amp * math.sin(ph)
            flex = 0.08 + (0.85 * max(0.0, math.cos(ph + 0.5)) if pose.kind == "walk" else 0.02)
            knee = _dir(a, th)
            legs.append((knee, _add(knee, _dir(a - flex, sh)), a - flex))
        hip_v = max(-ank[1] for _, ank, _ in legs) + ANKLE * h
        hip = (0.0, hip_v)
        j["hip"] = hip
        j["knees"] = [_add(hip, k) for k, _, _ in legs]
        j["ankles"] = [_add(hip, a) for _, a, _ in legs]
        j["foot_angles"] = [min(0.0, s) * 0.7 for _, _, s in legs]
        lean = 0.06 if pose.kind == "walk" else 0.0
        arm_amp = [-0.9 * amp * math.sin(pose.phase + math.pi), -0.9 * amp * math.sin(pose.phase)]
    elif pose.kind == "sit":
        hip = (0.0, (SHIN + ANKLE) * h + 0.012 * h)
        knees = [_add(hip, (th, 0.01 * h)), _add(hip, (th - 0.03 * h, 0.012 * h))]
        ankles = [(k[0] + 0.03 * h, ANKLE * h) for k in knees]
        j.update(hip=hip, knees=knees, ankles=ankles, foot_angles=[0.0, 0.0])
        lean = -0.06
        arm_amp = None
    elif pose.kind == "crouch":
        hip = (-0.09 * h, 0.2 * h)
        ankles = [(0.05 * h, ANKLE * h), (0.0, ANKLE * h)]
        knees = [_ik(hip, a, th, sh, 1.0) for a in ankles]
        j.update(hip=hip, knees=knees, ankles=ankles, foot_angles=[0.0, -0.2])
        lean = 0.75
        arm_amp = None
    else:  # ride: hip on the saddle, feet on the pedals
        hip = (BIKE["saddle"][0], BIKE["saddle"][1] + 0.05)
        cx, cy = BIKE["crank"]
        ankles = [
            (cx + CRANK_R * math.cos(a), cy + CRANK_R * math.sin(a) + ANKLE * h)
            for a in (pose.phase, pose.phase + math.pi)
        ]
        knees = [_ik(hip, a, th, sh, 1.0) for a in ankles]
        j.update(hip=hip, knees=knees, ankles=ankles, foot_angles=[0.0, 0.0])
        lean = 0.6
        arm_amp = None
    hip = j["hip"]
    shoulder = _add(hip, (TORSO * h * math.sin(lean), TORSO * h * math.cos(lean)))
    j["lean"] = lean
    j["shoulder"] = shoulder
    j["head"] = _add(shoulder, (0.012 * h + 0.05 * h * math.sin(lean), 0.112 * h))
    if arm_amp is not None:  # free swinging arms (near, far)
        arms = []
        for a in arm_amp:
            bend = 0.22 + 0.5 * max(0.0, a)
            el = _add(shoulder, _dir(a, ua))
            arms.append((el, _add(el, _dir(a + bend, fa))))
    elif pose.kind == "sit":
        hand = _add(hip, (0.62 * th, 0.05 * h))
        arms = [
            (_ik(shoulder, hand, ua, fa, -1.0), hand),
            (_ik(shoulder, _add(hand, (-0.03 * h, 0)), ua, fa, -1.0), _add(hand, (-0.03 * h, 0))),
        ]
    elif pose.kind == "crouch":
        hand = (0.1 * h, 0.06 * h)
        arms = [
            (_ik(shoulder, hand, ua, fa, -1.0), hand),
            (
                _ik(shoulder, _add(hand, (-0.04 * h, 0.02 * h)), ua, fa, -1.0),
                _add(hand, (-0.04 * h, 0.02 * h)),
            ),
        ]
    else:
        hand = (BIKE["bar"][0] - 0.03, BIKE["bar"][1])
        el = _ik(shoulder, hand, ua, fa, -1.0)
        arms = [(el, hand), (el, hand)]
    j["arms"] = arms
    return j


def _shoe_side(fig: _Fig, ankle, angle: float, app: Appearance, color) -> None:
    h = app.height_m
    ca, sa = math.cos(angle), math.sin(angle)
    pts = [(-0.026, 0.016), (0.02, 0.022), (0.066, 0.006), (0.07, -0.02), (-0.028, -0.025)]
    fig.poly([(ankle[0] + (x * ca - y * sa) * h, ankle[1] + (x * sa + y * ca) * h) for x, y in pts], color)


def _leg_side(fig: _Fig, app: Appearance, j: dict, i: int, shade: float) -> None:
    h, b = app.height_m, app.girth
    thigh_c, shin_c = (scale_color(c, shade) for c in _leg_colors(app))
    hip, knee, ank = j["hip"], j["knees"][i], j["ankles"][i]
    fig.limb(knee, ank, 0.056 * b * h, shin_c)
    if app.bottom_kind == "shorts":  # bare thigh, then the short trouser leg over its upper part
        fig.limb(hip, knee, 0.072 * b * h, shin_c)
        mid = (hip[0] + 0.6 * (knee[0] - hip[0]), hip[1] + 0.6 * (knee[1] - hip[1]))
        fig.limb(hip, mid, 0.082 * b * h, thigh_c)
    else:
        fig.limb(hip, knee, 0.076 * b * h, thigh_c)
    _shoe_side(fig, ank, j["foot_angles"][i], app, scale_color(app.shoes, shade))


def _arm_side(fig: _Fig, app: Appearance, j: dict, i: int, shade: float) -> None:
    h, b = app.height_m, app.girth
    up_c, fore_c = (scale_color(c, shade) for c in _sleeve_colors(app))
    el, hand = j["arms"][i]
    sh = j["shoulder"]
    sh = _add(sh, (0.0, -0.018 * h))
    fig.limb(el, hand, 0.04 * b * h, fore_c)
    fig.limb(sh, el, 0.05 * b * h, up_c)
    fig.ellipse(hand, 0.02 * h, 0.022 * h, scale_color(app.skin, shade))
    if app.bag == "handbag" and i == 0 and j.get("free_arms"):
        bc = app.bag_color
        fig.limb(hand, _add(hand, (0.0, -0.04 * h)), 0.006 * h, scale_color(bc, 0.7))
        fig.poly(
            [
                _add(hand, (-0.05 * h, -0.04 * h)),
                _add(hand, (0.05 * h, -0.04 * h)),
                _add(hand, (0.055 * h, -0.11 * h)),
                _add(hand, (-0.055 * h, -0.11 * h)),
            ],
            bc,
        )


def _torso_outline(app: Appearance, j: dict, extra_len: float) -> list:
    """Side-view torso polygon along the hip->shoulder axis (front = +normal)."""
    h, b = app.height_m, app.girth
    hip, lean = j["hip"], j["lean"]
    ax = (math.sin(lean), math.cos(lean))
    nrm = (math.cos(lean), -math.sin(lean))
    length = TORSO * h

    def at(t: float, off: float):
        return (
            hip[0] + ax[0] * t * length + nrm[0] * off * h * b,
            hip[1] + ax[1] * t * length + nrm[1] * off * h * b,
        )

    front = [
        at(-extra_len, 0.066 + 0.08 * extra_len),
        at(0.0, 0.062),
        at(0.4, 0.055),
        at(0.75, 0.068),
        at(0.98, 0.048),
        at(1.06, 0.02),
    ]
    back = [
        at(1.05, -0.03),
        at(0.95, -0.058),
        at(0.6, -0.062),
        at(0.2, -0.058),
        at(0.0, -0.066),
        at(-extra_len, -0.07 - 0.06 * extra_len),
    ]
    return front + back


def _head_side(fig: _Fig, app: Appearance, j: dict) -> None:
    h = app.height_m
    hc = j["head"]
    sk, hair = app.skin, app.hair
    fig.limb(
        _add(j["shoulder"], (0.0, -0.01 * h)),
        _add(hc, (-0.005 * h, -0.04 * h)),
        0.036 * h,
        scale_color(sk, 0.9),
    )
    style = app.hair_style
    if style == "long":
        fig.poly(
            [
                _add(hc, (-0.052 * h, 0.03 * h)),
                _add(hc, (0.01 * h, 0.03 * h)),
                _add(hc, (-0.01 * h, -0.14 * h)),
                _add(hc, (-0.07 * h, -0.14 * h)),
            ],
            hair,
        )
    if style == "ponytail":
        fig.ellipse(_add(hc, (-0.065 * h, -0.015 * h)), 0.02 * h, 0.045 * h, hair, 20)
    if style == "bun":
        fig.ellipse(_add(hc, (-0.045 * h, 0.052 * h)), 0.024 * h, 0.022 * h, hair)
    if style not in ("bald",):
        fig.ellipse(_add(hc, (-0.006 * h, 0.01 * h)), 0.055 * h, 0.064 * h, hair)
    fig.ellipse(_add(hc, (0.009 * h, -0.006 * h)), 0.047 * h, 0.057 * h, sk)
    fig.poly(
        [_add(hc, (0.05 * h, 0.004 * h)), _add(hc, (0.068 * h, -0.014 * h)), _add(hc, (0.05 * h, -0.02 * h))],
        sk,
    )
    if style in ("short", "ponytail", "bun"):  # fringe over the forehead
        fig.ellipse(_add(hc, (0.012 * h, 0.045 * h)), 0.04 * h, 0.018 * h, hair, -10)
    if style == "cap":
        cap = app.accent
        fig.ellipse(_add(hc, (-0.004 * h, 0.03 * h)), 0.056 * h, 0.04 * h, cap)
        fig.poly(
            [
                _add(hc, (0.02 * h, 0.03 * h)),
                _add(hc, (0.085 * h, 0.022 * h)),
                _add(hc, (0.085 * h, 0.012 * h)),
                _add(hc, (0.02 * h, 0.016 * h)),
            ],
            scale_color(cap, 0.8),
        )
    if style == "beanie":
        fig.ellipse(_add(hc, (-0.004 * h, 0.032 * h)), 0.058 * h, 0.044 * h, app.accent)
    if app.beard:
        fig.ellipse(_add(hc, (0.02 * h, -0.04 * h)), 0.035 * h, 0.022 * h, hair, 15)
    fig.ellipse(_add(hc, (0.032 * h, 0.004 * h)), 0.0065 * h, 0.0065 * h, (30, 26, 26))


def _draw_side(fig: _Fig, app: Appearance, pose: Pose) -> None:
    h, b = app.height_m, app.girth
    j = _side_joints(app, pose)
    j["free_arms"] = pose.kind in ("walk", "stand")
    far = 0.76
    _arm_side(fig, app, j, 1, far)
    _leg_side(fig, app, j, 1, far)
    if app.bag == "backpack":
        hip, lean = j["hip"], j["lean"]
        ax, nrm = (math.sin(lean), math.cos(lean)), (math.cos(lean), -math.sin(lean))
        pts = []
        for t, off in ((0.38, -0.05), (0.95, -0.05), (0.92, -0.14), (0.45, -0.15)):
            pts.append(
                (
                    hip[0] + ax[0] * t * TORSO * h + nrm[0] * off * h * b,
                    hip[1] + ax[1] * t * TORSO * h + nrm[1] * off * h * b,
                )
            )
        fig.poly(pts, app.bag_color)
    _leg_side(fig, app, j, 0, 1.0)
    hip, knees = j["hip"], j["knees"]
    if app.bottom_kind == "skirt" and pose.kind != "ride":
        hem_v = min(k[1] for k in knees) + 0.03 * h
        lo = max(min(k[0] for k in knees) - 0.04 * h * b, hip[0] - 0.12 * h)
        hi = min(max(k[0] for k in knees) + 0.04 * h * b, hip[0] + 0.12 * h)
        fig.poly(
            [
                _add(hip, (-0.068 * h * b, 0.03 * h)),
                _add(hip, (0.066 * h * b, 0.03 * h)),
                (hi, hem_v),
                (lo, hem_v),
            ],
            app.bottom,
        )
    extra = 0.55 if app.top_kind == "coat" and pose.kind in ("walk", "stand") else 0.0
    fig.pen.pattern_poly(
        fig.ps(_torso_outline(app, j, extra)), app.top, app.top_pattern, app.accent, _pattern_period(app, fig)
    )
    if app.bag == "shoulder bag":
        sh = j["shoulder"]
        bag_c = (hip[0] + 0.02 * h, hip[1] + 0.02 * h)
        fig.limb(_add(sh, (0.01 * h, 0.0)), bag_c, 0.009 * h, scale_color(app.bag_color, 0.75))
        fig.poly(
            [
                _add(bag_c, (-0.05 * h, 0.03 * h)),
                _add(bag_c, (0.06 * h, 0.03 * h)),
                _add(bag_c, (0.06 * h, -0.06 * h)),
                _add(bag_c, (-0.05 * h, -0.06 * h)),
            ],
            app.bag_color,
        )
    if app.bag == "backpack":
        sh = j["shoulder"]
        fig.limb(
            _add(sh, (0.02 * h, -0.01 * h)),
            _add(sh, (0.03 * h, -0.14 * h)),
            0.012 * h,
            scale_color(app.bag_color, 0.8),
        )
    _head_side(fig, app, j)
    _arm_side(fig, app, j, 0, 1.0)


# --- front / back view ----------------------------------------------------------------------------
def _draw_frontal(fig: _Fig, app: Appearance, pose: Pose) -> None:
    h, b = app.height_m, app.girth
    back = pose.facing == "back"
    walk = pose.kind == "walk"
    lift = [
        0.03 * max(0.0, math.sin(pose.phase)) if walk else 0.0,
        0.03 * max(0.0, -math.sin(pose.phase)) if walk else 0.0,
    ]
    hip_v = (THIGH + SHIN + ANKLE) * h
    thigh_c, shin_c = _leg_colors(app)
    for i, side in enumerate((-1.0, 1.0)):
        hip = (side * 0.048 * b * h, hip_v)
        knee = (side * 0.05 * b * h, (SHIN + ANKLE + lift[i] * 0.5) * h)
        ank = (side * 0.054 * b * h, (ANKLE + lift[i]) * h)
        fig.limb(knee, ank, 0.056 * b * h, shin_c)
        fig.limb(hip, knee, 0.072 * b * h, thigh_c)
        if app.bottom_kind == "shorts":
            fig.limb(
                hip,
                (hip[0] + 0.6 * (knee[0] - hip[0]), hip[1] + 0.6 * (knee[1] - hip[1])),
                0.08 * b * h,
                app.bottom,
            )
        fig.ellipse((ank[0] + side * 0.004 * h, ank[1] - 0.006 * h), 0.03 * h, 0.02 * h, app.shoes)
    if app.bottom_kind == "skirt":
        fig.poly(
            [
                (-0.09 * b * h, hip_v + 0.03 * h),
                (0.09 * b * h, hip_v + 0.03 * h),
                (0.125 * b * h, 0.3 * h),
                (-0.125 * b * h, 0.3 * h),
            ],
            app.bottom,
        )
    coat = app.top_kind == "coat"
    low = 0.36 * h if coat else hip_v - 0.02 * h
    wide = 0.115 if coat else 0.096
    torso = [
        (-0.036 * h, 0.84 * h),
        (-0.118 * b * h, 0.818 * h),
        (-0.105 * b * h, 0.74 * h),
        (-0.085 * b * h, 0.62 * h),
        (-wide * b * h, low),
        (wide * b * h, low),
        (0.085 * b * h, 0.62 * h),
        (0.105 * b * h, 0.74 * h),
        (0.118 * b * h, 0.818 * h),
        (0.036 * h, 0.84 * h),
    ]
    fig.pen.pattern_poly(fig.ps(torso), app.top, app.top_pattern, app.accent, _pattern_period(app, fig))
    _frontal_bag(fig, app, back)
    up_c, fore_c = _sleeve_colors(app)
    for i, side in enumerate((-1.0, 1.0)):
        sw = 0.03 * math.sin(pose.phase) * (1 if i else -1) if walk else 0.0
        sh = (side * 0.112 * b * h, 0.8 * h)
        el = (side * 0.142 * b * h, 0.64 * h)
        hand = (side * 0.15 * b * h, (0.5 + sw) * h)
        if pose.phone and i == 1 and not back:
            el, hand = (side * 0.125 * b * h, 0.63 * h), (0.04 * h, 0.7 * h)
        fig.limb(el, hand, 0.04 * b * h, fore_c)
        fig.limb(sh, el, 0.05 * b * h, up_c)
        fig.ellipse(hand, 0.02 * h, 0.022 * h, app.skin)
        if pose.phone and i == 1 and not back:
            fig.poly(
                [
                    _add(hand, (-0.012 * h, 0.0)),
                    _add(hand, (0.012 * h, 0.0)),
                    _add(hand, (0.012 * h, 0.04 * h)),
                    _add(hand, (-0.012 * h, 0.04 * h)),
                ],
                (20, 20, 24),
            )
        if app.bag == "handbag" and i == 0:
            fig.poly(
                [
                    _add(hand, (-0.035 * h, -0.03 * h)),
                    _add(hand, (0.035 * h, -0.03 * h)),
                    _add(hand, (0.04 * h, -0.1 * h)),
                    _add(hand, (-0.04 * h, -0.1 * h)),
                ],
                app.bag_color,
            )
    _head_frontal(fig, app, back)


def _frontal_bag(fig: _Fig, app: Appearance, back: bool) -> None:
    h, b = app.height_m, app.girth
    c = app.bag_color
    if app.bag == "backpack":
        if back:
            fig.poly(
                [
                    (-0.085 * b * h, 0.8 * h),
                    (0.085 * b * h, 0.8 * h),
                    (0.09 * b * h, 0.57 * h),
                    (-0.09 * b * h, 0.57 * h),
                ],
                c,
            )
            fig.poly(
                [
                    (-0.07 * b * h, 0.66 * h),
                    (0.07 * b * h, 0.66 * h),
                    (0.07 * b * h, 0.58 * h),
                    (-0.07 * b * h, 0.58 * h),
                ],
                scale_color(c, 0.8),
            )
        else:
            for s in (-1.0, 1.0):
                fig.limb(
                    (s * 0.07 * b * h, 0.815 * h),
                    (s * 0.08 * b * h, 0.62 * h),
                    0.018 * h,
                    scale_color(c, 0.85),
                )
    elif app.bag == "shoulder bag":
        s = 1.0 if back else -1.0
        fig.limb((s * 0.09 * b * h, 0.81 * h), (-s * 0.1 * b * h, 0.56 * h), 0.012 * h, scale_color(c, 0.8))
        x0 = -s * 0.1 * b * h
        fig.poly(
            [(x0, 0.57 * h), (x0 - s * 0.075 * h, 0.57 * h), (x0 - s * 0.075 * h, 0.46 * h), (x0, 0.46 * h)],
            c,
        )


def _head_frontal(fig: _Fig, app: Appearance, back: bool) -> None:
    h = app.height_m
    hc = (0.0, 0.925 * h)
    sk, hair, style = app.skin, app.hair, app.hair_style
    fig.limb((0.0, 0.83 * h), (0.0, 0.88 * h), 0.04 * h, scale_color(sk, 0.88))
    if style == "long":
        fig.poly(
            [(-0.058 * h, 0.94 * h), (0.058 * h, 0.94 * h), (0.066 * h, 0.8 * h), (-0.066 * h, 0.8 * h)], hair
        )
    if style == "bun":
        fig.ellipse((0.0, 0.995 * h), 0.026 * h, 0.022 * h, hair)
    if style != "bald":
        fig.ellipse((0.0, 0.935 * h), 0.054 * h, 0.064 * h, hair)
    if back:
        if style == "bald":
            fig.ellipse(hc, 0.048 * h, 0.062 * h, sk)
        if style == "ponytail":
            fig.ellipse((0.0, 0.88 * h), 0.018 * h, 0.05 * h, hair)
    else:
        fig.ellipse((0.0, 0.916 * h), 0.045 * h, 0.056 * h, sk)
        if style in ("short", "ponytail", "bun", "long"):
            fig.ellipse((0.0, 0.962 * h), 0.045 * h, 0.02 * h, hair)
        if app.beard:
            fig.ellipse((0.0, 0.884 * h), 0.036 * h, 0.024 * h, hair)
        for s in (-1.0, 1.0):
            fig.ellipse((s * 0.017 * h, 0.925 * h), 0.0065 * h, 0.0065 * h, (30, 26, 26))
        fig.limb((-0.01 * h, 0.892 * h), (0.01 * h, 0.892 * h), 0.005 * h, (150, 70, 70))
    if style == "cap":
        fig.ellipse((0.0, 0.96 * h), 0.056 * h, 0.04 * h, app.accent)
        if not back:
            fig.ellipse((0.0, 0.95 * h), 0.064 * h, 0.012 * h, scale_color(app.accent, 0.8))
    if style == "beanie":
        fig.ellipse((0.0, 0.962 * h), 0.058 * h, 0.044 * h, app.accent)


# --- public API -----------------------------------------------------------------------------------
def person_sprite(
    app: Appearance,
    pose: Pose,
    foot: tuple[float, float],
    px_per_m: tuple[float, float],
    image_size: tuple[int, int],
    light: float = 0.0,
) -> Sprite | None:
    """Draw one person standing at image point ``foot`` (ground contact, centre of the figure).

    ``px_per_m`` is the (horizontal, vertical) perspective scale at the person's depth; ``light`` in [-1, 1]
    brightens the right (+) or left (-) side a little for volume. Returns None when fully outside the image.
    """
    sx, sy = px_per_m
    h = app.height_m
    ext_u = (1.0 if pose.kind == "ride" else 0.42) * h
    rect = clip_rect(
        foot[0] - ext_u * sx,
        foot[1] - 1.08 * h * sy,
        foot[0] + ext_u * sx,
        foot[1] + 0.03 * h * sy,
        *image_size,
    )
    if rect is None:
        return None
    pen = Pen(*rect, mirror_axis=foot[0] if pose.facing == "left" else None)
    fig = _Fig(pen, foot, sx, sy)
    if pose.facing in ("front", "back") and pose.kind in ("walk", "stand"):
        _draw_frontal(fig, app, pose)
    else:
        _draw_side(fig, app, pose)
    sp = pen.sprite()
    _shade(sp, light)
    return sp


def _shade(sp: Sprite, light: float) -> None:
    """Cheap volume: brighter toward the light side, slightly darker toward the feet."""
    hgt, wid = sp.alpha.shape
    xs = np.linspace(-1.0, 1.0, wid, dtype=np.float32)
    ys = np.linspace(1.04, 0.9, hgt, dtype=np.float32)
    f = ys[:, None] * (1.0 + 0.1 * light * xs[None, :])
    sp.color *= f[..., None]


def bicycle_sprite(
    color: Color,
    facing: str,
    foot: tuple[float, float],
    px_per_m: tuple[float, float],
    image_size: tuple[int, int],
) -> Sprite | None:
    """Side-view bicycle whose crank is above image point ``foot``."""
    sx, sy = px_per_m
    rect = clip_rect(
        foot[0] - 0.95 * sx, foot[1] - 1.1 * sy, foot[0] + 0.95 * sx, foot[1] + 0.02 * sy, *image_size
    )
    if rect is None:
        return None
    pen = Pen(*rect, mirror_axis=foot[0] if facing == "left" else None)
    fig = _Fig(pen, foot, sx, sy)
    tyre, metal = (28, 28, 30), (150, 150, 155)
    for w in ("rear", "front"):
        c = fig.p(BIKE[w])
        pen.ring(c, (WHEEL_R - 0.02) * sy, 0.045 * sy, tyre)
        pen.ring(c, (WHEEL_R - 0.06) * sy, 0.012 * sy, metal)
    t = 0.035
    f = BIKE
    for a, b in (("rear", "crank"), ("crank", "seat"), ("seat", "head"), ("crank", "head"), ("rear", "seat")):
        fig.limb(f[a], f[b], t, color)
    fig.limb(f["head"], f["front"], t * 0.9, scale_color(color, 0.85))
    fig.limb(f["head"], f["bar"], 0.03, metal)
    fig.limb(f["bar"], _add(f["bar"], (-0.1, 0.0)), 0.035, tyre)
    fig.limb(f["seat"], f["saddle"], 0.025, metal)
    fig.limb(_add(f["saddle"], (-0.09, 0.0)), _add(f["saddle"], (0.08, 0.0)), 0.05, tyre)
    fig.ellipse(f["crank"], 0.06, 0.06, mix_color(metal, tyre, 0.5))
    return pen.sprite()
