"""Synthetic Cityscapes-layout street data: layout, determinism, CityPersons schema, identities, CLI."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from data.boxes import overlapping
from data.citypersons import CityPerson, parse_citypersons
from synthetic import make_demo_data as mdd
from synthetic.drawing import Pen, paste
from synthetic.frame import INDIVIDUAL_LABELS, LABELS, plan_frame, render_frame

SIZE = (512, 256)
FRAMES = 6
IMG_RE = re.compile(r"^leftImg8bit/(train|val|test)/([a-z]+)/(\2_\d{6}_\d{6})_leftImg8bit\.png$")
ANN_RE = re.compile(r"^gtBboxCityPersons/(train|val|test)/([a-z]+)/(\2_\d{6}_\d{6})_gtBboxCityPersons\.json$")
IDS_RE = re.compile(r"^gtFine/(train|val|test)/([a-z]+)/(\2_\d{6}_\d{6})_gtFine_instanceIds\.png$")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _annotations(root: Path) -> dict[str, tuple[str, dict]]:
    """frame name -> (split, annotation dict)."""
    out = {}
    for p in sorted((root / "gtBboxCityPersons").glob("*/*/*.json")):
        out[p.name[: -len("_gtBboxCityPersons.json")]] = (p.parent.parent.name, json.loads(p.read_text()))
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo") / "cityscapes"
    rc = mdd.main(
        ["--out", str(root), "--frames", str(FRAMES), "--seed", "3", "--size", "512x256", "--quiet"]
    )
    assert rc == 0
    return root, json.loads((root / "demo_manifest.json").read_text())


# --- splits and names -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, {"train": 1, "val": 0, "test": 0}),
        (2, {"train": 1, "val": 1, "test": 0}),
        (3, {"train": 1, "val": 1, "test": 1}),
        (6, {"train": 4, "val": 1, "test": 1}),
        (60, {"train": 42, "val": 9, "test": 9}),
    ],
)
def test_split_counts(n: int, expected: dict) -> None:
    assert mdd.split_counts(n) == expected


def test_frame_names_are_unique_and_cities_disjoint_per_split() -> None:
    specs = mdd.frame_specs(60)
    assert [s["index"] for s in specs] == list(range(60))
    assert len({s["name"] for s in specs}) == 60
    cities = {split: {s["city"] for s in specs if s["split"] == split} for split in mdd.SPLITS}
    assert not cities["train"] & cities["val"] and not cities["train"] & cities["test"]
    assert not cities["val"] & cities["test"]
    assert all(mdd.NAME_RE.match(s["name"]) for s in specs)


# --- layout ---------------------------------------------------------------------------------------
def test_layout_matches_cityscapes(dataset: tuple[Path, dict]) -> None:
    root, manifest = dataset
    files = _files(root)
    images = {m.group(3): m.group(1) for f in files if (m := IMG_RE.match(f))}
    anns = {m.group(3): m.group(1) for f in files if (m := ANN_RE.match(f))}
    assert len(images) == FRAMES
    instance_maps = {m.group(3): m.group(1) for f in files if (m := IDS_RE.match(f))}
    assert images == anns == instance_maps  # one annotation and one instance-id map per image, same split
    assert Counter(images.values()) == Counter({"train": 4, "val": 1, "test": 1})
    extra = set(files) - {f for f in files if IMG_RE.match(f) or ANN_RE.match(f) or IDS_RE.match(f)}
    assert extra == {"identities.json", "demo_manifest.json"}  # no temp files left behind
    assert manifest["frames"] == {"train": 4, "val": 1, "test": 1}
    assert manifest["size"] == {"width": 512, "height": 256} and manifest["seed"] == 3


# --- determinism ----------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(dataset: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = dataset
    again = tmp_path / "again"
    mdd.generate_dataset(again, FRAMES, 3, SIZE, workers=1)
    assert _files(again) == _files(root)


def test_worker_count_does_not_change_output(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    mdd.generate_dataset(a, 3, 11, (256, 128), workers=1)
    mdd.generate_dataset(b, 3, 11, (256, 128), workers=2)
    assert _files(a) == _files(b)


def test_different_seed_gives_different_frames(dataset: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = dataset
    other = tmp_path / "other"
    mdd.generate_dataset(other, FRAMES, 4, SIZE)
    a, b = _files(root), _files(other)
    assert a.keys() == b.keys()
    pngs = [k for k in a if k.endswith(".png")]
    assert all(a[k] != b[k] for k in pngs)


def test_rerun_with_fewer_frames_removes_stale_frames(tmp_path: Path) -> None:
    mdd.generate_dataset(tmp_path, 5, 0, (256, 128))
    mdd.generate_dataset(tmp_path, 3, 0, (256, 128))
    assert len(list(tmp_path.glob("leftImg8bit/*/*/*.png"))) == 3
    assert len(list(tmp_path.glob("gtBboxCityPersons/*/*/*.json"))) == 3
    assert len(list(tmp_path.glob("gtFine/*/*/*_gtFine_instanceIds.png"))) == 3


# --- CityPersons schema ---------------------------------------------------------------------------
def test_annotation_schema_and_boxes(dataset: tuple[Path, dict]) -> None:
    root, _ = dataset
    for name, (split, ann) in _annotations(root).items():
        assert set(ann) == {"imgHeight", "imgWidth", "objects"}
        img = cv2.imread(str(root / "leftImg8bit" / split / name.split("_")[0] / f"{name}_leftImg8bit.png"))
        assert img.shape == (ann["imgHeight"], ann["imgWidth"], 3) == (256, 512, 3)
        ids = [o["instanceId"] for o in ann["objects"]]
        assert len(ids) == len(set(ids))
        assert sum(o["label"] == "pedestrian" for o in ann["objects"]) >= 3
        for o in ann["objects"]:
            assert set(o) == {"instanceId", "bbox", "bboxVis", "label"}
            assert o["label"] in LABELS
            assert isinstance(o["instanceId"], int) and o["instanceId"] >= 24000
            for box in (o["bbox"], o["bboxVis"]):
                assert len(box) == 4 and all(isinstance(v, int) for v in box)
                x, y, w, h = box
                assert w >= 1 and h >= 1
                assert x >= 0 and y >= 0 and x + w <= 512 and y + h <= 256  # no edge case below index 10
            bx, by, bw, bh = o["bbox"]
            vx, vy, vw, vh = o["bboxVis"]
            assert vx >= bx - 1 and vy >= by - 1 and vx + vw <= bx + bw + 1 and vy + vh <= by + bh + 1
            if o["label"] not in ("pedestrian", "rider"):
                assert o["bbox"] == o["bboxVis"]  # CityPersons convention for the other labels


def test_scene_has_occlusion_and_overlap(dataset: tuple[Path, dict]) -> None:
    root, _ = dataset
    occluded = overlapping_people = 0
    for _, ann in _annotations(root).values():
        peds = [o for o in ann["objects"] if o["label"] == "pedestrian"]
        occluded += sum(o["bbox"] != o["bboxVis"] for o in peds)
        overlapping_people += len(overlapping([o["bboxVis"] for o in peds], 0.1))
    assert occluded >= 3
    assert overlapping_people >= 1


def test_edge_case_frame_overshoots_right_border_once() -> None:
    spec = mdd.frame_specs(20)[10]
    assert spec["index"] == 10
    pool = mdd.identity_pools(0, mdd.split_counts(20))[spec["split"]]
    _, ann, _, _ = mdd.make_frame(spec, 0, (1024, 512), pool)
    over = [o for o in ann.objects if o.bbox[0] + o.bbox[2] > 1024]
    assert len(over) == 1 and over[0].label == "pedestrian"
    assert 1 <= over[0].bbox[0] + over[0].bbox[2] - 1024 <= 3


def test_instance_ids_mark_each_annotated_person_and_nothing_else(dataset: tuple[Path, dict]) -> None:
    """The gtFine instance-id maps: each individual's pixels carry its instanceId and fill exactly its visible box
    (tight on all four sides); every labelled pixel is a person's (class 24 or 25), and rendering the frame
    without its individuals changes the pixels they own."""
    root, _ = dataset
    checked = 0
    for stem, (split, ann) in _annotations(root).items():
        ids = cv2.imread(str(root / "gtFine" / split / stem.split("_")[0] / f"{stem}_gtFine_instanceIds.png"),
                         cv2.IMREAD_UNCHANGED)
        assert ids.dtype == np.uint16 and ids.shape == (SIZE[1], SIZE[0])
        values = set(np.unique(ids).tolist()) - {0}
        assert all(v in (24, 25) or v // 1000 in (24, 25) for v in values)
        for obj in ann["objects"]:
            if obj["label"] not in INDIVIDUAL_LABELS:
                continue
            ys, xs = np.nonzero(ids == obj["instanceId"])
            x, y, w, h = obj["bboxVis"]
            if x + w > SIZE[0]:
                continue  # the deliberate overshoot past the right border
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x, y, x + w, y + h)
            checked += 1
    assert checked >= 20


def test_person_map_covers_the_pixels_people_change() -> None:
    """Rendered with and without its people, a frame changes (beyond shadows and noise) almost only where the
    person map says a person is."""
    (img, _, person_map), (bare, _, bare_map) = _render_with_and_without_people()
    changed = np.abs(img.astype(np.int16) - bare.astype(np.int16)).max(axis=2) > 40
    individuals = (person_map > 0) & (bare_map == 0)
    assert individuals.sum() > 2000
    assert (changed & individuals).sum() >= 0.9 * changed.sum()


# --- identities -----------------------------------------------------------------------------------
def test_identities_cover_every_individual_person(dataset: tuple[Path, dict]) -> None:
    root, manifest = dataset
    idents = json.loads((root / "identities.json").read_text())
    assert idents["version"] == 1
    anns = _annotations(root)
    assert set(idents["frames"]) == set(anns)
    seen: Counter = Counter()
    split_of: dict[int, str] = {}
    for name, (split, ann) in anns.items():
        individual = {str(o["instanceId"]) for o in ann["objects"] if o["label"] in INDIVIDUAL_LABELS}
        mapping = idents["frames"][name]
        assert set(mapping) == individual  # groups and ignore regions are not identities
        assert len(set(mapping.values())) == len(mapping)  # nobody appears twice in one frame
        for identity in mapping.values():
            seen[identity] += 1
            assert split_of.setdefault(identity, split) == split  # identities never cross splits
    assert {int(k) for k in idents["identities"]} == set(seen)
    for k, desc in idents["identities"].items():
        assert desc["frames"] == seen[int(k)]
        assert {"height_m", "skin", "hair", "top", "bottom", "bag"} <= set(desc)
    assert max(seen.values()) >= 2  # true same-person pairs exist
    assert manifest["identities_in_2plus_frames"] == sum(v >= 2 for v in seen.values()) > 0


def test_manifest_counts_match_annotations(dataset: tuple[Path, dict]) -> None:
    root, manifest = dataset
    labels: Counter = Counter()
    usable = 0
    for _, ann in _annotations(root).values():
        labels.update(o["label"] for o in ann["objects"])
        usable += mdd.usable_pedestrians(parse_citypersons(ann, "frame.json").objects, ann["imgHeight"])
    assert manifest["persons"] == {label: labels.get(label, 0) for label in LABELS}
    assert manifest["crop_ready_pedestrians"]["total"] == usable
    assert usable >= 2 * FRAMES  # plenty of pedestrians of croppable size (filter scaled to the frame)


def test_usable_pedestrians_applies_size_and_overlap_filter() -> None:
    def ped(x: int, w: int, h: int) -> CityPerson:
        return CityPerson("pedestrian", None, (x, 100, w, h))

    objs = [ped(0, 50, 150), ped(200, 39, 150), ped(400, 50, 251), ped(600, 60, 200), ped(610, 60, 200)]
    objs.append(CityPerson("rider", None, (900, 100, 50, 150)))
    assert mdd.usable_pedestrians(objs, 1024) == 1  # too narrow, too tall, overlapping pair, not a pedestrian
    assert mdd.usable_pedestrians([ped(0, 12, 40)], 256) == 1  # limits scale with the frame height


# --- drawing: boxes are tight around what was drawn -----------------------------------------------
def test_paste_returns_tight_box_and_marks_owner() -> None:
    canvas = np.zeros((40, 60, 3), np.float32)
    owner = np.zeros((40, 60), np.int32)
    pen = Pen(0, 0, 60, 40)
    pen.poly([(10, 5), (30, 5), (30, 25), (10, 25)], (200, 100, 50))
    box = paste(canvas, owner, pen.sprite(), 7)
    ys, xs = np.nonzero(owner == 7)
    assert box == (xs.min(), ys.min(), xs.max(), ys.max())
    assert 9 <= box[0] <= 10 and 29 <= box[2] <= 30 and 4 <= box[1] <= 5 and 24 <= box[3] <= 25
    assert canvas[15, 20, 0] == pytest.approx(200, abs=1) and canvas[0, 0].max() == 0


def _render_with_and_without_people() -> tuple[tuple, tuple]:
    """render_frame of one 1024x512 plan, and of the same plan without its annotated people (same random draws)."""
    pool = mdd.identity_pools(5, mdd.split_counts(6))["train"]
    rng = np.random.default_rng([5, 0])
    plan = plan_frame(rng, 1024, 512, pool)
    state = rng.bit_generator.state
    with_people = render_frame(plan, rng)
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = state
    empty = dataclasses.replace(plan, items=[it for it in plan.items if it.label is None])
    return with_people, render_frame(empty, rng2)


def test_person_boxes_are_tight_in_rendered_frame() -> None:
    """Render a frame with and without its annotated people: the pixels that change inside each free-standing
    pedestrian's box must reach all four box edges, and nothing changes just above/beside the box."""
    (img, anns, _), (bare, _, _) = _render_with_and_without_people()
    diff = np.abs(img.astype(np.int16) - bare.astype(np.int16)).max(axis=2) > 6
    boxes = [a.vis for a in anns if a.label in INDIVIDUAL_LABELS]
    checked = 0
    for a in anns:
        if a.label != "pedestrian" or a.box != a.vis:
            continue
        x0, y0, x1, y1 = a.box
        near = [
            b
            for b in boxes
            if b != a.box and b[0] <= x1 + 3 and b[2] >= x0 - 3 and b[1] <= y1 + 3 and b[3] >= y0 - 3
        ]
        if near or x0 < 3 or y0 < 3 or x1 > 1020:
            continue
        inside = diff[y0 : y1 + 1, x0 : x1 + 1]
        assert inside[0].any() and inside[:, 0].any() and inside[:, -1].any() and inside[-1].any()
        assert not diff[y0 - 3 : y0 - 1, x0 : x1 + 1].any()  # above the head
        assert not diff[y0 : y1 - 5, x0 - 3 : x0 - 1].any() and not diff[y0 : y1 - 5, x1 + 2 : x1 + 4].any()
        checked += 1
    assert checked >= 2


# --- CLI and contact sheet ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "512"], "WIDTHxHEIGHT"),
        (["--size", "axb"], "WIDTHxHEIGHT"),
        (["--size", "10x10"], "out of range"),
        (["--frames", "0"], "--frames must be >= 1"),
        (["--frames", "two"], "invalid int value"),
    ],
)
def test_bad_arguments_give_argparse_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exc:
        mdd.main(["--out", str(tmp_path / "x"), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_contact_sheet(dataset: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = dataset
    out = mdd.make_contact_sheet(root, tmp_path / "sheet.png", n=4, width=512)
    sheet = cv2.imread(str(out))
    assert sheet.shape == (256, 512, 3)  # 2 x 2 tiles of 256 x 128
    green = (sheet[..., 1] > 200) & (sheet[..., 0] < 100) & (sheet[..., 2] < 100)
    assert green.sum() > 50  # pedestrian boxes were drawn


def test_the_old_command_name_is_an_alias_of_the_new_one() -> None:
    import subprocess
    import sys

    from data_preprocessing import make_demo_data as alias

    assert alias.main is mdd.main
    result = subprocess.run([sys.executable, "-m", "data_preprocessing.make_demo_data", "--help"], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0 and "python -m synthetic.make_demo_data" in result.stdout


def test_appearances_per_identity_sizes_the_identity_pools() -> None:
    """Re-ID training data: fewer, more often seen identities; the default keeps about three appearances."""
    counts = mdd.split_counts(100)
    default = mdd.identity_pools(0, counts)
    frequent = mdd.identity_pools(0, counts, appearances=10.0)
    assert len(default["train"]) == 280 == 70 * 12 // 3  # 70 train frames, about 12 individuals each
    assert len(frequent["train"]) == 84 and len(frequent["val"]) == 20  # never fewer than 20
    assert default["train"][:3] == frequent["train"][:3]  # the same people, only fewer of them


def test_appearances_flag_is_recorded_and_checked(tmp_path: Path, capsys) -> None:
    assert mdd.main(["--out", str(tmp_path / "d"), "--frames", "3", "--size", "256x128", "--quiet",
                     "--appearances_per_identity", "6"]) == 0
    assert json.loads((tmp_path / "d" / "demo_manifest.json").read_text())["appearances_per_identity"] == 6.0
    with pytest.raises(SystemExit):
        mdd.main(["--out", str(tmp_path / "e"), "--frames", "3", "--appearances_per_identity", "0.5"])
    assert "--appearances_per_identity must lie in [1, 12]" in capsys.readouterr().err
