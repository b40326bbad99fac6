"""Cityscapes + CityPersons -> crops: counts, geometry, determinism, split, subset, resume, bad input.

Fixtures are tiny hand-made frames (512×256, crop 64, size limits scaled by 1/4) with boxes placed so that
every count and coordinate below can be worked out by hand.
"""

import json
import os
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from data_preprocessing import cityscapes
from data_preprocessing.cityscapes import PreprocessConfig, PreprocessError, build_dataset, main

FRAME_W, FRAME_H = 512, 256
SMALL = {
    "frame_size": (FRAME_W, FRAME_H),
    "crop_size": 64,
    "min_width": 10,
    "max_width": 25,
    "min_height": 30,
    "max_height": 62,
}
# One frame's objects, in annotation order; k counts pedestrians only.
OBJECTS = [
    ("pedestrian", (100, 50, 20, 40)),  # k0 kept: window (78, 38), box (22, 12, 43, 53)
    ("rider", (300, 50, 20, 40)),  # label
    ("pedestrian", (200, 100, 5, 40)),  # k1 too_small
    ("pedestrian", (400, 100, 30, 40)),  # k2 too_large
    ("pedestrian", (490, 200, 20, 60)),  # k3 edge fix y 200 -> 195; kept, window in the bottom-right corner
    ("pedestrian", (-3, 100, 20, 40)),  # k4 outside_frame (a problem too)
    ("pedestrian", (200, 150, 20, 40)),  # k5 overlap with k6: inclusive IoU 656/1066
    ("pedestrian", (205, 150, 20, 40)),  # k6 overlap
    ("ignore", (0, 0, 50, 50)),  # label
]
KEPT_BOXES = {0: {"x1": 22, "y1": 12, "x2": 43, "y2": 53}, 3: {"x1": 42, "y1": 3, "x2": 63, "y2": 64}}
WINDOWS = {0: (78, 38), 3: (448, 192)}


def frame_pixels(stem: str, size: tuple[int, int] = (FRAME_W, FRAME_H)) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(stem.encode("utf-8", "surrogateescape")))
    return rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


def write_frame(
    root: Path,
    stem: str,
    objects=OBJECTS,
    split: str = "train",
    layout: str = "official",
    size: tuple[int, int] = (FRAME_W, FRAME_H),
    image: bool = True,
    annotation: bool = True,
) -> Path:
    """A frame, in the official (leftImg8bit/<split>/<city>) or flat layout; returns the image path."""
    city = stem.split("_")[0]
    if layout == "official":
        image_dir, ann_dir = root / "leftImg8bit" / split / city, root / "gtBboxCityPersons" / split / city
    else:
        image_dir, ann_dir = root / "images" / city, root / "bboxes" / city
    image_path = image_dir / f"{stem}_leftImg8bit.png"
    if image:
        image_dir.mkdir(parents=True, exist_ok=True)
        image_path.write_bytes(cv2.imencode(".png", frame_pixels(stem, size))[1].tobytes())
    if annotation:
        ann_dir.mkdir(parents=True, exist_ok=True)
        objs = [
            {"instanceId": 24000 + i, "bbox": list(box), "bboxVis": list(box), "label": label}
            for i, (label, box) in enumerate(objects)
        ]
        data = {"imgHeight": FRAME_H, "imgWidth": FRAME_W, "objects": objs}
        (ann_dir / f"{stem}_gtBboxCityPersons.json").write_text(json.dumps(data))
    return image_path


def stems(n: int) -> list[str]:
    return [f"{('aachen', 'bochum', 'ulm')[i % 3]}_{i:06d}_000019" for i in range(n)]


def make_root(tmp_path: Path, n: int, layout: str = "official") -> Path:
    root = tmp_path / "cityscapes"
    for i, stem in enumerate(stems(n)):
        write_frame(root, stem, split="val" if i % 4 == 3 else "train", layout=layout)
    return root


def run(root: Path, out: Path, **options) -> dict:
    config = {"workers": 1, "quiet": True, **SMALL, **options}
    return build_dataset(PreprocessConfig(str(root), str(out), **config))


def tree(out: Path, parts=("images", "bbox", "splits", "full")) -> dict[str, bytes]:
    """Every dataset file's bytes by relative path (not the manifest: it holds times and paths)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for part in parts
        for p in sorted((out / part).rglob("*"))
        if p.is_file()
    }


def read_box(out: Path, split: str, name: str) -> dict:
    return json.loads((out / "bbox" / split / f"{name}.json").read_text())


def assert_accounted(counts: dict) -> None:
    assert counts["annotated"] == counts["kept"] + sum(counts["rejected"].values())


# ----------------------------------------------------------------------------- one frame, worked out by hand


def test_one_frame_counts_boxes_and_pixels(tmp_path):
    root = tmp_path / "cs"
    write_frame(root, "aachen_000000_000019")
    out = tmp_path / "out"
    manifest = run(root, out, split={"train": 1.0}, source_splits=("train",))

    total = manifest["counts"]["total"]
    assert total["annotated"] == 9 and total["kept"] == 2 and total["written"] == 2
    assert total["rejected"] == {
        "label": 2,
        "bad_frame": 0,
        "bad_box": 0,
        "outside_frame": 1,
        "excluded": 0,
        "overlap": 2,
        "too_small": 1,
        "too_large": 1,
        "window": 0,
    }
    assert total["rejected_by_label"] == {"ignore": 1, "rider": 1}
    assert total["edge_fixed"] == 1
    assert_accounted(total)
    assert manifest["problems"]["counts"] == {"outside_frame": 1}
    assert manifest["problems"]["items"][0]["path"].endswith("aachen_000000_000019_gtBboxCityPersons.json")

    frame = frame_pixels("aachen_000000_000019")
    names = sorted(p.stem for p in (out / "images" / "train").iterdir())
    assert names == ["aachen_000000_000019_0", "aachen_000000_000019_3"]
    for k, box in KEPT_BOXES.items():
        name = f"aachen_000000_000019_{k}"
        assert read_box(out, "train", name) == box
        pair = cv2.imread(str(out / "images" / "train" / f"{name}.png"))
        assert pair.shape == (64, 128, 3)
        left, top = WINDOWS[k]
        clean, filled = pair[:, :64], pair[:, 64:]
        assert (clean == frame[top : top + 64, left : left + 64]).all()
        inside = np.zeros((64, 64), bool)
        inside[box["y1"] : box["y2"], box["x1"] : box["x2"]] = True
        assert (filled[~inside] == clean[~inside]).all()  # the fill is only inside the JSON box ...
        noise = filled[inside]
        assert set(np.unique(noise)) == {0, 127, 255}  # ... and covers all of it with the noise values
        assert (noise[:, 0] == noise[:, 1]).all() and (noise[:, 1] == noise[:, 2]).all()
    assert not (out / "images" / "val5").exists()  # no val split, so no val5


def write_instance_ids(root: Path, stem: str, split: str = "train", depth: int = 16) -> np.ndarray:
    """A gtFine instance-id map beside the frame: a person (24000) over pedestrian k0's box, a rider (25001), a
    crowd of people (24), a car (26000) and a road (7); returns where the people are."""
    ids = np.zeros((FRAME_H, FRAME_W), np.uint16)
    ids[55:85, 105:115] = 24000
    ids[50:60, 80:95] = 25001
    ids[40:45, 120:130] = 24
    ids[60:70, 90:100] = 26000
    ids[200:, :] = 7
    folder = root / "gtFine" / split / stem.split("_")[0]
    folder.mkdir(parents=True, exist_ok=True)
    stored = ids if depth == 16 else (ids // 1000).astype(np.uint8)
    (folder / f"{stem}_gtFine_instanceIds.png").write_bytes(cv2.imencode(".png", stored)[1].tobytes())
    return np.isin(np.where(ids >= 1000, ids // 1000, ids), (24, 25))


def test_instance_ids_give_each_crop_its_person_mask(tmp_path):
    """With gtFine instance ids beside a frame, each of its crops gets an 8-bit mask of the people in the clean
    crop (person and rider instances and crowds; not cars or road), published like the images; a frame without
    instance ids gives its crops none, and adding them later redoes only that frame."""
    root = tmp_path / "cs"
    write_frame(root, "aachen_000000_000019")
    write_frame(root, "bochum_000001_000019")
    people = write_instance_ids(root, "aachen_000000_000019")
    out = tmp_path / "out"
    run(root, out, split={"train": 1.0}, source_splits=("train",))
    for k in KEPT_BOXES:
        left, top = WINDOWS[k]
        mask = cv2.imread(str(out / "person_mask" / "train" / f"aachen_000000_000019_{k}.png"), cv2.IMREAD_UNCHANGED)
        assert mask.dtype == np.uint8 and mask.shape == (64, 64)
        assert (mask == np.where(people[top : top + 64, left : left + 64], 255, 0)).all()
    first = cv2.imread(str(out / "person_mask" / "train" / "aachen_000000_000019_0.png"), cv2.IMREAD_UNCHANGED)
    assert (first > 0).sum() == 30 * 10 + 10 * 15 + 5 * 10  # person, rider and crowd lie in k0's window; the car not
    assert sorted(p.name for p in (out / "person_mask" / "train").iterdir()) == [
        "aachen_000000_000019_0.png", "aachen_000000_000019_3.png"]

    write_instance_ids(root, "bochum_000001_000019")
    manifest = run(root, out, split={"train": 1.0}, source_splits=("train",))
    assert manifest["run"]["frames_processed"] == 1 and manifest["run"]["frames_resumed"] == 1
    assert len(list((out / "person_mask" / "train").iterdir())) == 4


def test_an_instance_map_that_is_not_16_bit_rejects_its_frame(tmp_path, capsys):
    """An 8-bit map holds no instance ids: the frame is reported and its persons counted as bad_frame, never
    written without (or with a wrong) mask."""
    root = tmp_path / "cs"
    write_frame(root, "aachen_000000_000019")
    write_instance_ids(root, "aachen_000000_000019", depth=8)
    manifest = run(root, tmp_path / "out", split={"train": 1.0}, source_splits=("train",))
    assert manifest["counts"]["total"]["rejected"]["bad_frame"] == 9 and manifest["counts"]["total"]["kept"] == 0
    (problem,) = manifest["problems"]["items"]
    assert problem["path"].endswith("aachen_000000_000019_gtFine_instanceIds.png") and "16-bit" in problem["message"]
    assert "16-bit" in capsys.readouterr().err


def test_grey_fill_with_exact_boxes(tmp_path):
    root = tmp_path / "cs"
    write_frame(root, "aachen_000000_000019")
    out = tmp_path / "out"
    run(root, out, split={"train": 1.0}, source_splits=("train",), fill="grey", box_convention="exact")
    box = read_box(out, "train", "aachen_000000_000019_0")
    assert box == {"x1": 22, "y1": 12, "x2": 42, "y2": 52}  # w×h = 20×40: x2 = x1 + w
    pair = cv2.imread(str(out / "images" / "train" / "aachen_000000_000019_0.png"))
    filled, clean = pair[:, 64:].astype(int), pair[:, :64].astype(int)
    changed = np.argwhere((filled != clean).any(axis=2))
    assert changed.min(axis=0).tolist() == [12, 22] and changed.max(axis=0).tolist() == [51, 41]
    assert (filled[12:52, 22:42] == 127).all()


def test_window_reason_when_the_box_cannot_fit_the_crop(tmp_path):
    root = tmp_path / "cs"
    write_frame(
        root,
        "aachen_000000_000019",
        objects=[("pedestrian", (100, 50, 20, 80)), ("pedestrian", (300, 50, 20, 62))],
    )
    manifest = run(root, tmp_path / "out", split={"train": 1.0}, source_splits=("train",), max_height=100)
    # 81 inclusive rows cannot fit a 64 px window; 63 just do (64 would: the centre is at h//2).
    assert manifest["counts"]["total"]["rejected"]["window"] == 1
    assert manifest["counts"]["total"]["kept"] == 1


def test_exclude_list_drops_named_persons(tmp_path):
    root = tmp_path / "cs"
    write_frame(root, "aachen_000000_000019")
    listing = tmp_path / "overlap.txt"
    listing.write_text("# thesis overlap list\naachen_000000_000019_0\nzurich_000001_000019_4.png\n")
    manifest = run(
        root,
        tmp_path / "out",
        split={"train": 1.0},
        source_splits=("train",),
        exclude_list=str(listing),
        overlap_iou=None,
    )
    total = manifest["counts"]["total"]
    assert total["rejected"]["excluded"] == 1 and total["rejected"]["overlap"] == 0
    assert total["kept"] == 3  # k3, and k5/k6 now that the IoU filter is off
    assert_accounted(total)


# ------------------------------------------------------------------------------ determinism and the split


def test_same_seed_same_bytes_for_any_worker_count(tmp_path):
    root = make_root(tmp_path, 6)
    run(root, tmp_path / "a", seed=5)
    run(root, tmp_path / "b", seed=5, workers=2)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a == b and any(k.startswith("images/val5/") for k in a)
    run(root, tmp_path / "c", seed=6)
    assert tree(tmp_path / "c") != a


def test_split_counts_and_fractions():
    assert cityscapes.split_counts({"train": 0.7, "val": 0.15, "test": 0.15}, 6) == {
        "train": 4,
        "val": 1,
        "test": 1,
    }
    assert cityscapes.split_counts({"train": 2475, "val": 500, "test": 500}, 3475) == {
        "train": 2475,
        "val": 500,
        "test": 500,
    }
    assert cityscapes.split_counts({"test": 0.5, "train": 0.2}, 10) == {"test": 5, "train": 2}
    with pytest.raises(PreprocessError, match="only 6"):
        cityscapes.split_counts({"train": 5, "val": 2}, 6)
    with pytest.raises(PreprocessError, match="mixes"):
        cityscapes.split_counts({"train": 5, "val": 0.5}, 6)
    with pytest.raises(PreprocessError, match="more than 1"):
        cityscapes.split_counts({"train": 0.8, "val": 0.3}, 6)


def test_split_frames_is_seeded_disjoint_and_sorted():
    names = stems(40)
    a = cityscapes.split_frames(names[::-1], {"train": 30, "val": 5, "test": 5}, seed=1)
    assert a == cityscapes.split_frames(names, {"train": 30, "val": 5, "test": 5}, seed=1)
    assert sorted(sum(a.values(), [])) == sorted(names) and all(v == sorted(v) for v in a.values())
    assert a != cityscapes.split_frames(names, {"train": 30, "val": 5, "test": 5}, seed=2)


def test_split_lists_reproduce_a_split_and_report_missing_frames(tmp_path):
    root = make_root(tmp_path, 6)
    first = run(root, tmp_path / "a", seed=3)
    lists = tmp_path / "lists"
    lists.mkdir()
    for name in ("train", "val", "test"):
        lines = (tmp_path / "a" / "splits" / f"{name}.txt").read_text().split()
        # Paths and file names are accepted as well as stems.
        lines = [f"leftImg8bit/train/x/{s}_leftImg8bit.png" if i % 2 else s for i, s in enumerate(lines)]
        (lists / f"{name}.txt").write_text("\n".join(lines + (["nowhere_000000_000000"] if name == "val" else [])))
    second = run(root, tmp_path / "b", seed=3, split_lists=str(lists))
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert first["splits"] == second["splits"]
    assert second["problems"]["counts"] == {"missing_frame": 1, "outside_frame": 6}


def test_subset_and_val5(tmp_path):
    root = make_root(tmp_path, 10)
    out = tmp_path / "out"
    manifest = run(root, out, split={"train": 6, "val": 4}, subset={"train": 5, "val": 6}, n_val_vis=5)
    assert manifest["subset"] == {
        "train": {"requested": 5, "available": 12, "written": 5},
        "val": {"requested": 6, "available": 8, "written": 6},
    }
    train = sorted(p.name for p in (out / "images" / "train").iterdir())
    full_train = sorted(p.name for p in (out / "full" / "images" / "train").iterdir())
    assert len(train) == 5 and set(train) < set(full_train) and len(full_train) == 12
    val = sorted(p.name for p in (out / "images" / "val").iterdir())
    assert sorted(p.name for p in (out / "images" / "val5").iterdir()) == val[:5]
    assert sorted(p.name for p in (out / "bbox" / "val5").iterdir()) == [v.replace(".png", ".json") for v in val[:5]]
    assert manifest["counts"]["val5"]["written"] == 5
    # The subset is seeded: the same command picks the same crops.
    run(root, tmp_path / "again", split={"train": 6, "val": 4}, subset={"train": 5, "val": 6})
    assert tree(out) == tree(tmp_path / "again")


def test_changing_only_the_subset_reuses_finished_frames(tmp_path):
    root = make_root(tmp_path, 6)
    out = tmp_path / "out"
    run(root, out)
    manifest = run(root, out, subset={"train": 2})
    assert manifest["run"]["frames_processed"] == 0 and manifest["counts"]["train"]["written"] == 2


# ----------------------------------------------------------------------------------------- resume


def test_resume_after_an_interruption_gives_the_same_bytes(tmp_path, monkeypatch):
    root = make_root(tmp_path, 6)
    run(root, tmp_path / "reference")

    calls = []
    real = cityscapes.process_frame

    def interrupted(task, params):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(task.stem)
        return real(task, params)

    out = tmp_path / "out"
    monkeypatch.setattr(cityscapes, "process_frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(root, out)
    monkeypatch.undo()
    assert len(list((out / ".progress" / "frames").iterdir())) == 3 and not (out / "manifest.json").exists()

    manifest = run(root, out)
    assert manifest["run"]["frames_resumed"] == 3 and manifest["run"]["frames_processed"] == 3
    assert tree(out) == tree(tmp_path / "reference")

    # A lost crop or a half-written file left by a killed run: only that frame is done again.
    lost = next((out / "full" / "images" / "train").iterdir())
    lost.unlink()
    (out / "full" / "images" / "train" / ".x.png.abc.tmp").write_bytes(b"partial")
    manifest = run(root, out)
    assert manifest["run"]["frames_processed"] == 1
    assert tree(out) == tree(tmp_path / "reference")


def test_other_options_refuse_to_resume_and_overwrite_starts_again(tmp_path):
    root = make_root(tmp_path, 3)
    out = tmp_path / "out"
    run(root, out, split={"train": 1.0}, source_splits=("train",))
    with pytest.raises(PreprocessError, match="seed"):
        run(root, out, split={"train": 1.0}, source_splits=("train",), seed=1)
    manifest = run(root, out, split={"train": 1.0}, source_splits=("train",), seed=1, overwrite=True)
    assert manifest["run"]["frames_processed"] == 3
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(PreprocessError, match="not empty"):
        run(root, foreign)
    run(root, foreign, overwrite=True)
    assert (foreign / "notes.txt").read_text() == "mine"  # --overwrite deletes only the command's own output


# ----------------------------------------------------------------------------------------- bad input


def test_bad_inputs_are_reported_counted_and_skipped(tmp_path, capsys):
    root = tmp_path / "cs"
    write_frame(root, "aachen_000000_000019")
    small = write_frame(root, "aachen_000001_000019", size=(256, 128))
    lonely_image = write_frame(root, "aachen_000002_000019", annotation=False)
    write_frame(root, "aachen_000003_000019", image=False)
    corrupt = write_frame(root, "aachen_000004_000019")
    corrupt.write_bytes(corrupt.read_bytes()[:5000])  # truncated: valid header, broken data
    broken_json = write_frame(root, "aachen_000005_000019")
    ann = root / "gtBboxCityPersons" / "train" / "aachen" / "aachen_000005_000019_gtBboxCityPersons.json"
    ann.write_text("{not json")
    write_frame(root, "aachen_000006_000019", objects=[("pedestrian", (500, 10, 20, 40))])  # nothing kept
    (root / "leftImg8bit" / "train" / "aachen" / "aachen_000006_000019_leftImg8bit.png").write_bytes(b"\x89PNG")

    out = tmp_path / "out"
    manifest = run(root, out, split={"train": 1.0}, source_splits=("train",))
    problems = manifest["problems"]
    assert problems["counts"] == {
        "frame_size": 1,
        "missing_annotation": 1,
        "missing_image": 1,
        "outside_frame": 1,
        "unreadable": 3,
    }
    paths = {p["kind"]: [] for p in problems["items"]}
    for p in problems["items"]:
        paths[p["kind"]].append(p["path"])
    assert paths["frame_size"] == [str(small)] and paths["missing_annotation"] == [str(lonely_image)]
    assert sorted(paths["unreadable"]) == sorted(
        [str(corrupt), str(ann), str(broken_json.with_name("aachen_000006_000019_leftImg8bit.png"))]
    )
    total = manifest["counts"]["total"]
    assert total["frames"] == 5 and total["frames_with_problems"] == 5  # the good one has a box outside
    assert total["rejected"]["bad_frame"] == 9 + 9 + 1  # small, corrupt and the header-only frame
    assert total["kept"] == 2
    assert_accounted(total)
    err = capsys.readouterr().err
    assert f"warning: frame_size: {small}" in err and "missing_annotation" in err


def test_flat_layout_of_the_notebooks(tmp_path):
    root = make_root(tmp_path, 6, layout="flat")
    write_frame(root, "demo_000000_000019", layout="flat")  # the notebooks' demo folder is not data
    manifest = run(root, tmp_path / "flat")
    assert manifest["input"] == {"layout": "flat", "frames_found": 6, "frames_unassigned": 0}
    run(make_root(tmp_path / "o", 6), tmp_path / "official")
    assert tree(tmp_path / "flat") == tree(tmp_path / "official")


def test_an_infinite_or_malformed_box_skips_that_person_only(tmp_path):
    # An Infinity in one box (Python's JSON reader accepts it) aborted the whole run with an OverflowError.
    root = tmp_path / "cs"
    objects = [*OBJECTS[:1], ("pedestrian", (float("inf"), 50, 20, 40)), ("pedestrian", (1, 2, 3)), *OBJECTS[1:]]
    write_frame(root, "aachen_000000_000019", objects=objects)
    manifest = run(root, tmp_path / "out", split={"train": 1.0}, source_splits=("train",))
    total = manifest["counts"]["total"]
    assert total["rejected"]["bad_box"] == 2 and total["kept"] == 2  # k0 and the edge-fixed person still kept
    assert_accounted(total)
    bad = [p for p in manifest["problems"]["items"] if p["kind"] == "bad_box"]
    assert [p["message"] for p in bad] == [f"person {k}: visible box is not four finite numbers, skipped"
                                           for k in (1, 2)]


def test_frame_names_that_are_not_utf8_are_processed(tmp_path):
    # zlib.crc32(stem.encode()) raised UnicodeEncodeError for such a name: a traceback ended the run.
    stem = os.fsdecode(b"m\xfcnchen_000000_000019")
    root = tmp_path / "cs"
    write_frame(root, stem)
    write_frame(root, "aachen_000000_000019")
    out = tmp_path / "out"
    manifest = run(root, out, split={"train": 1.0}, source_splits=("train",))
    assert manifest["counts"]["total"]["kept"] == 4
    assert (out / "images" / "train" / f"{stem}_0.png").is_file()
    assert stem.encode("utf-8", "surrogateescape") in (out / "splits" / "train.txt").read_bytes()
    assert run(root, out, split={"train": 1.0}, source_splits=("train",))["run"]["frames_resumed"] == 2


@pytest.mark.parametrize("where", ["equal", "inside"])
def test_out_equal_to_or_inside_the_input_is_refused(tmp_path, where):
    # With the notebooks' flat layout, --overwrite --out ROOT deleted ROOT/images: the source frames.
    root = make_root(tmp_path, 3, layout="flat")
    frames = sorted((root / "images").rglob("*.png"))
    out = root if where == "equal" else root / "images" / "dataset"
    with pytest.raises(PreprocessError, match="is --cityscapes_root or inside it"):
        run(root, out, overwrite=True)
    assert sorted((root / "images").rglob("*.png")) == frames


def test_overwrite_deletes_only_files_this_command_wrote(tmp_path):
    root = make_root(tmp_path, 4)
    out = tmp_path / "out"
    run(root, out, subset={"train": 2})
    foreign = out / "images" / "train" / "my_own_crop.png"
    foreign.write_bytes(b"not made by the command")
    with pytest.raises(PreprocessError, match=r"did not write, e\.g\. .*my_own_crop\.png"):
        run(root, out, subset={"train": 2}, overwrite=True)
    with pytest.raises(PreprocessError, match="my_own_crop.png"):  # nor mixed into a resumed dataset
        run(root, out, subset={"train": 2})
    assert foreign.read_bytes() == b"not made by the command"
    foreign.unlink()
    (out / "notes.txt").write_text("mine")
    manifest = run(root, out, subset={"train": 1}, overwrite=True)
    assert manifest["run"]["frames_processed"] == 4
    assert (out / "notes.txt").read_text() == "mine"
    assert len(list((out / "images" / "train").iterdir())) == 1  # the earlier subset's links are gone


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_builds_and_reports_errors_in_one_line(tmp_path, capsys):
    root = make_root(tmp_path, 3)
    out = tmp_path / "out"
    argv = [
        "--cityscapes_root",
        str(root),
        "--out",
        str(out),
        "--frame_size",
        "512x256",
        "--crop_size",
        "64",
        "--min_width",
        "10",
        "--max_width",
        "25",
        "--min_height",
        "30",
        "--max_height",
        "62",
        "--split",
        "train=2,val=1",
        "--workers",
        "1",
        "--quiet",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith("python -m data_preprocessing.cityscapes --cityscapes_root")
    assert manifest["counts"]["train"]["frames"] == 2 and manifest["software"]["a-gan"]

    assert main(["--cityscapes_root", str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert main([*argv, "--split_lists", str(tmp_path)]) == 2
    for bad in (["--split", "train=x"], ["--frame_size", "big"], ["--overlap_iou", "2"], ["--fill", "blur"]):
        with pytest.raises(SystemExit) as exc:
            main(["--cityscapes_root", str(root), "--out", str(out), *bad])
        assert exc.value.code == 2


# ------------------------------------------------------------------------------- end to end on demo data


def test_demo_data_to_a_dataset_the_training_loader_reads(tmp_path):
    from data import create_dataset
    from options.train_options import TrainOptions
    from synthetic import make_demo_data

    demo = tmp_path / "demo"
    assert make_demo_data.main(["--out", str(demo), "--frames", "6", "--size", "1024x512", "--quiet"]) == 0
    # The thesis settings at half the frame size: crop 128, visible box 20-50 x 60-125.
    argv = [
        "--cityscapes_root",
        str(demo),
        "--source_splits",
        "train,val,test",
        "--frame_size",
        "1024x512",
        "--crop_size",
        "128",
        "--min_width",
        "20",
        "--max_width",
        "50",
        "--min_height",
        "60",
        "--max_height",
        "125",
        "--split",
        "train=0.5,val=0.25,test=0.25",
        "--seed",
        "7",
        "--quiet",
    ]
    assert main([*argv, "--out", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert main([*argv, "--out", str(tmp_path / "b"), "--workers", "2"]) == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")  # same command and seed: the same bytes

    out = tmp_path / "a"
    manifest = json.loads((out / "manifest.json").read_text())
    annotations = list(demo.glob("gtBboxCityPersons/*/*/*.json"))
    total = manifest["counts"]["total"]
    assert total["annotated"] == sum(len(json.loads(p.read_text())["objects"]) for p in annotations)
    assert_accounted(total)
    for path in out.glob("bbox/*/*.json"):
        box = json.loads(path.read_text())
        assert 0 <= box["x1"] < box["x2"] <= 128 and 0 <= box["y1"] < box["y2"] <= 128
    for phase in ("train", "val", "val5", "test"):
        opt = TrainOptions().parse(
            [
                "--dataroot",
                str(out),
                "--model",
                "psgan",
                "--netG",
                "unet_128",
                "--crop_size",
                "128",
                "--load_size",
                "128",
                "--preprocess",
                "resize",
                "--phase",
                phase,
            ]
        )
        loader = create_dataset(opt)
        assert len(loader) == manifest["counts"][phase]["written"] > 0
        batch = next(iter(loader))
        assert batch.A.shape == (1, 3, 128, 128) and batch.boxes.shape == (1, 4)
