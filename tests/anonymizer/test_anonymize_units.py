"""Units of the full-frame anonymizer: geometry, waves, the fail-closed check, annotations, per-sample BatchNorm."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
import pytest
import torch

from anonymizer import geometry, verify
from anonymizer.annotations import AnnotationError, Person, frame_key, load_annotations
from anonymizer.frame import SHAPE_GROW_PX, FrameAnonymizer, Settings, Task, blend_alpha
from anonymizer.generator import PerSampleBatchNorm, Window, WindowGenerator, per_sample_batch_norm_, random_model
from anonymizer.methods import anonymize_box, anonymize_region
from data.boxes import box_to_xywh, clip_box
from data.silhouettes import GRID, SilhouetteBank
from data_preprocessing import crops
from util.image_files import read_rgb


def test_window_path_matches_the_training_crop_window():
    region = (300, 400, 361, 601)  # 60 x 200 inclusive box, as preprocessing fills it
    placement = geometry.place(region, 2048, 1024, 256, 8)
    corner = crops.crop_window(box_to_xywh(region, inclusive=True), 2048, 1024, 256)
    assert placement.path == "window"
    assert placement.window[:2] == corner
    assert placement.local_box == crops.region_in_window(region, corner, 256)


def test_large_boxes_are_scaled_small_ones_fall_back():
    large = geometry.place((100, 50, 400, 900), 2048, 1024, 256, 8)
    assert large.path == "scaled" and large.side == 850 + 16
    x1, y1, x2, y2 = large.local_box
    assert y2 - y1 <= 256 and x2 - x1 >= 32
    small = geometry.place((10, 10, 30, 80), 2048, 1024, 256, 8)
    assert small.path == "fallback" and "too small" in small.reason
    wide = geometry.place((0, 0, 2000, 100), 2048, 1024, 256, 8)
    assert wide.path == "fallback" and "cannot be windowed" in wide.reason


def test_waves_order_reads_after_writes():
    image = np.zeros((256, 512, 3), dtype=np.uint8)
    anonymizer = FrameAnonymizer(image, Settings(method="blur"), None, 0)
    boxes = [(10, 10, 30, 60), (25, 20, 50, 70), (200, 10, 230, 60)]  # the first two overlap
    tasks = [Task(k, Person(b, "pedestrian"), b, np.random.default_rng(k)) for k, b in enumerate(boxes)]
    waves = anonymizer.waves(tasks)
    assert [[t.index for t in wave] for wave in waves] == [[0, 2], [1]]


def test_blend_alpha_never_keeps_the_original_inside_the_box():
    alpha = blend_alpha(100, 70, 3)[..., 0]
    assert alpha.min() == pytest.approx(0.25) and alpha.max() == 1.0
    assert blend_alpha(100, 70, 0) is None


def textured(rng: np.random.Generator, h: int = 40, w: int = 20) -> np.ndarray:
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def person_regions(frames: Path) -> list[np.ndarray]:
    """The full-body box of every person of the demo frames that is at least 12 px on each side."""
    regions = []
    for image_path in sorted((frames / "leftImg8bit").rglob("*.png")):
        image = read_rgb(image_path)
        frame = load_annotations(frames / "gtBboxCityPersons").lookup(PurePosixPath(image_path.name))
        for person in frame.persons:
            region = clip_box(person.box, image.shape[1], image.shape[0])
            if min(region[2] - region[0], region[3] - region[1]) >= 12:
                regions.append(image[region[1]:region[3], region[0]:region[2]])
    return regions


def near_copies(region: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Results that keep the person: what the leakage check must refuse."""
    noise = rng.integers(0, 256, size=region.shape).astype(np.uint8)
    smooth = anonymize_region(region, "blur", 8.0, rng)  # smooth new content, as a generator paints
    # The old, unbounded --blend_px feather of half the box (blend_alpha now bounds it to 1/16).
    depth = np.minimum.outer(np.minimum(np.arange(region.shape[0]), np.arange(region.shape[0])[::-1]),
                             np.minimum(np.arange(region.shape[1]), np.arange(region.shape[1])[::-1]))
    alpha = np.minimum((depth + 1.0) / (min(region.shape[:2]) // 2 + 1.0), 1.0)[..., None]
    return {
        "original + 1": np.clip(region.astype(int) + 1, 0, 255).astype(np.uint8),
        "original + N(0, 2)": np.clip(np.rint(region + rng.normal(0, 2, region.shape)), 0, 255).astype(np.uint8),
        "original in 45%": np.where(rng.random(region.shape[:2])[..., None] < 0.45, region, noise),
        "feather of half the box": np.rint(alpha * smooth + (1 - alpha) * region).astype(np.uint8),
        "blur sigma 1": anonymize_region(region, "blur", 1.0, rng),
    }


def test_leakage_check_passes_every_method_and_refuses_near_copies(demo_frames):
    rng = np.random.default_rng(0)
    regions = person_regions(demo_frames)
    assert len(regions) >= 20
    for region in regions:
        for method in ("blur", "pixelate", "mask", "noise"):
            assert verify.box_problem(region, anonymize_region(region, method, None, rng)) is None, method
        for name, result in near_copies(region, rng).items():
            assert verify.box_problem(region, result) is not None, name
    flat = np.full((40, 20, 3), 90, dtype=np.uint8)
    assert verify.box_problem(flat, flat) is None  # nothing to hide in a constant region


def test_a_method_and_fallback_that_leak_give_way_to_noise(demo_frames):
    # A 2 px pixelation as method *and* fallback keeps most of the detail: the box ends up as full-range noise.
    image_path = sorted((demo_frames / "leftImg8bit").rglob("*.png"))[0]
    image = read_rgb(image_path)
    box = (200, 60, 260, 200)
    settings = Settings(method="pixelate", fallback="pixelate", strengths={"pixelate": 2.0})
    result, records = FrameAnonymizer(image, settings, None, 0).run([(0, Person(box, "person"))])
    assert records[0]["method"] == "noise" and records[0]["fallback_reason"].startswith("pixelate rejected")
    assert verify.box_problem(image[60:200, 200:260], result[60:200, 200:260]) is None


def test_a_paste_that_brings_back_an_earlier_neighbours_pixels_is_refused():
    # A larger box pasted over a smaller one finished before it, with the smaller one's original pixels in it (as a
    # generator copying a neighbour would): it passes alone, but would leave the smaller box a copy.
    rng = np.random.default_rng(2)
    original = textured(rng, 64, 64)
    anonymizer = FrameAnonymizer(original, Settings(method="noise"), None, 0)
    small, large = (10, 10, 20, 40), (5, 5, 50, 50)
    tasks = [Task(k, Person(box, "pedestrian"), box, np.random.default_rng(k)) for k, box in enumerate((small, large))]
    assert anonymizer.try_paste(tasks[0], anonymize_region(original[10:40, 10:20], "noise", None, rng)) is None
    replaced_small = anonymizer.out[10:40, 10:20].copy()
    values = anonymize_region(original[5:50, 5:50], "noise", None, rng)
    values[5:35, 5:15] = original[10:40, 10:20]
    assert verify.box_problem(original[5:50, 5:50], values) is None  # alone, the large box passes
    problem = anonymizer.try_paste(tasks[1], values)
    assert problem is not None and "leaves the overlapping box [10, 10, 20, 40] failing the check" in problem
    np.testing.assert_array_equal(anonymizer.out[10:40, 10:20], replaced_small)  # the paste was undone
    assert not anonymizer.written[45:50, 45:50].any()


def test_frame_check_requires_coverage_and_an_untouched_outside():
    rng = np.random.default_rng(1)
    original = textured(rng, 64, 64)
    result = anonymize_box(original, (10, 10, 30, 40), "noise", rng=rng)
    written = np.zeros((64, 64), dtype=bool)
    written[10:40, 10:30] = True
    assert verify.frame_problems(original, result, [(10, 10, 30, 40)], written) == []
    written[10, 10] = False
    assert "never replaced" in verify.frame_problems(original, result, [(10, 10, 30, 40)], written)[0]
    written[10, 10] = True
    result[0, 0] = original[0, 0] + 1
    assert "outside every box" in verify.frame_problems(original, result, [(10, 10, 30, 40)], written)[0]


def test_per_sample_batch_norm_equals_train_mode_batch_of_one():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(4).train()
    torch.nn.init.normal_(bn.weight)
    torch.nn.init.normal_(bn.bias)
    x = torch.randn(3, 4, 5, 6)
    expected = torch.cat([bn(x[i:i + 1]) for i in range(3)])
    net = torch.nn.Sequential(bn)
    assert per_sample_batch_norm_(net) == 1 and isinstance(net[0], PerSampleBatchNorm)
    assert torch.allclose(net(x), expected, atol=1e-5)


def test_frame_keys_and_labels(tmp_path):
    assert frame_key("aachen_000024_000019_leftImg8bit.png") == "aachen_000024_000019"
    assert frame_key("aachen_000024_000019_gtBboxCityPersons.json") == "aachen_000024_000019"
    assert frame_key("street.v2.jpg") == "street"
    objects = [{"bbox": [10, 20, 30, 60], "bboxVis": [12, 20, 20, 40], "label": "pedestrian"},
               {"bbox": [100, 20, 30, 60], "bboxVis": [100, 20, 30, 60], "label": "ignore"}]
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "x_000001_000019_gtBboxCityPersons.json"
    path.write_text(json.dumps({"imgWidth": 512, "imgHeight": 256, "objects": objects}))
    (tmp_path / "a" / "bad_000001_000019_gtBboxCityPersons.json").write_text("{broken")
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1}))
    index = load_annotations(tmp_path)
    frame = index.lookup(PurePosixPath("a/x_000001_000019_leftImg8bit.png"))
    assert frame.persons[0] == Person((10, 20, 41, 81), "pedestrian")  # inclusive: (w+1) x (h+1)
    assert load_annotations(tmp_path, "visible").lookup(PurePosixPath("x_000001_000019_leftImg8bit.png")
                                                        ).persons[0].box == (12, 20, 33, 61)
    broken = index.lookup(PurePosixPath("bad_000001_000019_leftImg8bit.png"))
    assert broken.error and "bad_000001" in broken.error  # fails only its own frame
    assert index.ignored == [str(tmp_path / "manifest.json")]
    with pytest.raises(AnnotationError, match="manifest.json"):
        load_annotations(tmp_path / "manifest.json")


def test_windows_follow_the_training_scale():
    """A model trained on 256 px crops resized to 143 and cut to 128 saw people at 143/256 of their frame size:
    its window is 229 frame px (resized to 128), and the box arrives at that same scale."""
    region = (300, 400, 341, 521)  # 40 x 120 px
    placement = geometry.place(region, 2048, 1024, 128, 4, window_side=229)
    assert placement.path == "window" and placement.side == 229
    x1, y1, x2, y2 = placement.local_box
    assert abs((y2 - y1) - 120 * 128 / 229) <= 2 and abs((x2 - x1) - 40 * 128 / 229) <= 2  # rounded outwards
    # Without a training scale the window is crop_size frame pixels and this box would not fit in it.
    assert geometry.place(region, 2048, 1024, 128, 4).path == "scaled"
    # A box that is big enough in frame pixels but too small once scaled to the model falls back.
    small = geometry.place((300, 400, 321, 461), 2048, 1024, 128, 4, window_side=229)
    assert small.path == "fallback" and "in the model" in small.reason


def test_a_resized_near_copy_is_caught_at_model_resolution(monkeypatch):
    """Resampling a generated window back to frame pixels smooths away fine detail, so the original in 45 % of
    the model pixels would pass the frame-pixel check; it is measured against its input window first."""
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(128, 50, (256, 512, 3)), 0, 255).astype(np.uint8)

    class NearCopy:
        crop_size, window_side = 64, 114

        def __call__(self, windows, seed):
            return [np.where(rng.random((64, 64, 1)) < 0.45, w.pixels, rng.uniform(0, 255, w.pixels.shape))
                    .astype(np.float32) for w in windows]

    person = Person(label="pedestrian", box=(200, 60, 240, 160))
    out, records = FrameAnonymizer(image, Settings(method="gan"), NearCopy(), 0).run([(0, person)])
    assert records[0]["fallback_reason"].startswith("generated box rejected") and "model pixels" in \
        records[0]["fallback_reason"]
    assert records[0]["method"] == "pixelate"
    assert verify.box_problem(image[60:160, 200:240], out[60:160, 200:240]) is None


class PaintsHoles:
    """A stand-in generator: noise everywhere in the window, so what reaches the frame shows where it pasted;
    keeps the windows it was given."""

    crop_size, window_side = 64, 114

    def __init__(self, copy_input: bool = False, copy_holes: bool = False) -> None:
        self.rng = np.random.default_rng(7)
        self.copy_input = copy_input
        self.copy_holes = copy_holes  # copy the input only where asked to paint a person's shape
        self.windows = []

    def __call__(self, windows, seed):
        self.windows += windows
        return [w.pixels.astype(np.float32) if self.copy_input or (self.copy_holes and w.hole is not None)
                else self.rng.uniform(0, 255, w.pixels.shape).astype(np.float32) for w in windows]


def person_in_frame(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Person]:
    """A textured 256×512 frame, its person map (a 16×80 figure in a 40×100 box) and that person."""
    image = np.clip(rng.normal(128, 50, (256, 512, 3)), 0, 255).astype(np.uint8)
    person_map = np.zeros((256, 512), dtype=bool)
    person_map[70:150, 212:228] = True
    return image, person_map, Person(label="pedestrian", box=(200, 60, 240, 160))


def test_a_person_map_paints_the_person_and_keeps_the_box_background():
    """anonymize.py --instance_ids: only the person's grown shape is replaced; every other pixel of its box is
    byte-identical to the input, and the frame passes the check measured over that shape."""
    image, person_map, person = person_in_frame(np.random.default_rng(0))
    generator = PaintsHoles()
    out, records = FrameAnonymizer(image, Settings(method="gan"), generator, 0, person_map).run([(0, person)])
    assert records[0]["method"] == "gan"
    changed = np.any(out != image, axis=2)
    # Grown by HOLE_DILATION model pixels: ceil(114 / 64) = 2 frame pixels around the figure.
    grown = np.zeros_like(person_map)
    grown[68:152, 210:230] = True
    assert not changed[~grown].any()  # the box background and everything outside it untouched
    assert changed[person_map].mean() > 0.95  # the person replaced (noise may repeat a value by chance)
    assert records[0]["painted_fraction"] == round(grown[60:160, 200:240].mean(), 4)
    hole = generator.windows[0].hole  # the model saw the hole at its own resolution, inside the box
    x1, y1, x2, y2 = generator.windows[0].box
    assert hole.sum() > 0 and not hole[:, :x1].any() and not hole[:, x2:].any() and not hole[:y1].any()
    assert hole.sum() < 0.6 * (x2 - x1) * (y2 - y1)


def test_a_box_without_person_pixels_is_painted_whole():
    image, person_map, person = person_in_frame(np.random.default_rng(1))
    person_map[:] = False  # e.g. the map does not label this person
    out, records = FrameAnonymizer(image, Settings(method="gan"), PaintsHoles(), 0, person_map).run([(0, person)])
    assert records[0]["method"] == "gan" and "painted_fraction" not in records[0]
    assert np.any(out != image, axis=2)[60:160, 200:240].mean() > 0.95


def test_a_hole_that_keeps_the_person_falls_back_to_the_whole_box():
    """Fail closed: a generator that returns its input keeps the person's pixels in the hole; the check (over the
    hole) refuses it and the fallback replaces the whole box."""
    image, person_map, person = person_in_frame(np.random.default_rng(2))
    generator = PaintsHoles(copy_input=True)
    out, records = FrameAnonymizer(image, Settings(method="gan"), generator, 0, person_map).run([(0, person)])
    assert records[0]["method"] == "pixelate" and records[0]["fallback_reason"].startswith("generated box rejected")
    assert verify.box_problem(image[60:160, 200:240], out[60:160, 200:240]) is None  # the whole box, not the hole


def test_a_rejected_shape_gets_the_gan_over_the_whole_box_before_any_fallback():
    """A painted shape the check rejects is not pixelated at once: the generator paints the whole box next, and
    that passes; the record says why the shape was not used."""
    image, person_map, person = person_in_frame(np.random.default_rng(4))
    generator = PaintsHoles(copy_holes=True)
    out, records = FrameAnonymizer(image, Settings(method="gan"), generator, 0, person_map).run([(0, person)])
    assert records[0]["method"] == "gan" and "fallback_reason" not in records[0]
    assert "painted_fraction" not in records[0]
    assert records[0]["shape_rejected"]["problem"].startswith("its fine detail correlates")
    assert [w.hole is not None for w in generator.windows] == [True, False]
    assert np.any(out != image, axis=2)[60:160, 200:240].mean() > 0.95  # the whole box replaced


@pytest.mark.parametrize("method", ["blur", "pixelate", "mask", "noise"])
def test_a_traditional_method_with_a_person_map_replaces_only_the_grown_shape(method):
    """anonymize.py --method M --instance_ids: M replaces the person's pixels grown by SHAPE_GROW_PX frame pixels,
    as the GAN's shapes do, and every other pixel of the box stays byte-identical; the frame passes the check."""
    image, person_map, person = person_in_frame(np.random.default_rng(5))
    out, records = FrameAnonymizer(image, Settings(method=method), None, 0, person_map).run([(0, person)])
    assert records[0]["method"] == method and records[0]["path"] == "shape" and "shape_rejected" not in records[0]
    grown = np.zeros_like(person_map)
    grown[70 - SHAPE_GROW_PX:150 + SHAPE_GROW_PX, 212 - SHAPE_GROW_PX:228 + SHAPE_GROW_PX] = True
    changed = np.any(out != image, axis=2)
    assert not changed[~grown].any()
    assert changed[grown].mean() > 0.9  # replaced (a value may repeat by chance)
    assert records[0]["painted_fraction"] == round(grown[60:160, 200:240].mean(), 4) < 0.6


def test_a_traditional_shape_the_check_rejects_gets_the_whole_box_then_the_fallback():
    """Fail closed in shapes: a blur of sigma 1 keeps the figure's fine detail, so the check refuses the shape,
    then the whole box blurred the same way, and the fallback (pixelation) replaces the whole box."""
    image, person_map, person = person_in_frame(np.random.default_rng(6))
    settings = Settings(method="blur", strengths={"blur": 1.0})
    out, records = FrameAnonymizer(image, settings, None, 0, person_map).run([(0, person)])
    assert records[0]["shape_rejected"]["problem"].startswith("its fine detail correlates")
    assert records[0]["method"] == "pixelate" and records[0]["path"] == "box"
    assert records[0]["fallback_reason"].startswith("blur rejected")
    assert np.any(out != image, axis=2)[60:160, 200:240].mean() > 0.9  # the whole box, background included


def test_a_traditional_method_replaces_the_whole_box_where_the_map_has_no_person():
    image, person_map, person = person_in_frame(np.random.default_rng(7))
    person_map[:] = False
    out, records = FrameAnonymizer(image, Settings(method="pixelate"), None, 0, person_map).run([(0, person)])
    assert records[0]["path"] == "box" and "painted_fraction" not in records[0]
    assert np.any(out != image, axis=2)[60:160, 200:240].mean() > 0.9


class CopiesFirstDraws:
    """A stand-in generator that returns its input (a near-copy the check rejects) for its first ``copies``
    calls, then noise; keeps the seed of each call."""

    crop_size, window_side = 64, 114

    def __init__(self, copies: int) -> None:
        self.copies = copies
        self.seeds = []
        self.rng = np.random.default_rng(3)

    def __call__(self, windows, seed):
        self.seeds.append(seed)
        if len(self.seeds) <= self.copies:
            return [w.pixels.astype(np.float32) for w in windows]
        return [self.rng.uniform(0, 255, w.pixels.shape).astype(np.float32) for w in windows]


@pytest.mark.parametrize("redraws, method, calls", [(0, "pixelate", 1), (1, "pixelate", 2), (2, "gan", 3)])
def test_a_rejected_whole_box_is_painted_again_up_to_redraws_times(redraws, method, calls):
    """anonymize.py --redraws N: a whole box the leakage check rejects gets up to N new paintings, each with its
    own seed, before the fallback; the record keeps every rejection. Here the first two paintings copy the
    input."""
    image, _, person = person_in_frame(np.random.default_rng(5))
    generator = CopiesFirstDraws(copies=2)
    out, records = FrameAnonymizer(image, Settings(method="gan", redraws=redraws), generator, 0).run([(0, person)])
    assert records[0]["method"] == method and len(generator.seeds) == calls == len(set(generator.seeds))
    assert len(records[0].get("redrawn", [])) == min(redraws, 2)
    assert all(problem.startswith("its fine detail correlates") for problem in records[0].get("redrawn", []))
    assert ("fallback_reason" in records[0]) == (method == "pixelate")
    assert verify.box_problem(image[60:160, 200:240], out[60:160, 200:240]) is None  # never the original


def test_the_first_draw_keeps_the_seed_it_had_before_redraws():
    """Runs made before --redraws existed are reproduced: a box that passes at once is painted with the same
    seed whatever --redraws is."""
    image, _, person = person_in_frame(np.random.default_rng(6))
    seeds = []
    for redraws in (0, 3):
        generator = CopiesFirstDraws(copies=0)
        FrameAnonymizer(image, Settings(method="gan", redraws=redraws), generator, 0).run([(0, person)])
        seeds.append(generator.seeds)
    assert seeds[0] == seeds[1] and len(seeds[0]) == 1


def test_the_frame_check_over_a_hole():
    """frame_problems with a hole: the hole must be written and must not keep the original's detail; the rest of
    the box may stay the original."""
    rng = np.random.default_rng(3)
    original = textured(rng, 64, 64)
    hole = np.zeros((30, 20), dtype=bool)
    hole[5:25, 6:14] = True
    result = original.copy()
    result[10:40, 10:30][hole] = rng.integers(0, 256, (int(hole.sum()), 3))
    written = np.zeros((64, 64), dtype=bool)
    written[10:40, 10:30] = hole
    box = (10, 10, 30, 40)
    assert verify.frame_problems(original, result, [box], written, [hole]) == []
    assert "never replaced" in verify.frame_problems(original, result, [box], written)[0]  # as a whole box
    kept = original.copy()
    written_all = np.zeros((64, 64), dtype=bool)
    written_all[10:40, 10:30] = True
    assert "correlates" in verify.frame_problems(original, kept, [box], written_all, [hole])[0]


@pytest.mark.parametrize("fill", ["none", "random", "original"])
def test_a_window_with_a_hole_fills_only_the_hole_whatever_the_models_fill(fill):
    """The generator input of a person hole: the model's own box fill (grey, noise, or the baked {0,127,255}
    noise of thesis crops) inside the hole only; the rest of the box is the real crop."""
    generator = WindowGenerator(random_model({"model": "psgan", "netG": "unet_64", "ngf": 8, "crop_size": 64,
                                              "load_size": 64, "bbox_noise": fill, "netG_mask_input": True}))
    pixels = textured(np.random.default_rng(4), 64, 64)
    hole = np.zeros((64, 64), dtype=bool)
    hole[20:50, 28:36] = True
    window = Window(pixels=pixels, box=(24, 16, 40, 54), rng=np.random.default_rng(5), hole=hole)
    tensor = generator.input_tensor(window)
    real = torch.from_numpy(pixels).permute(2, 0, 1).float() / 127.5 - 1.0
    assert torch.equal(tensor[:, ~torch.from_numpy(hole)], real[:, ~torch.from_numpy(hole)])
    filled = tensor[:, torch.from_numpy(hole)]
    assert not torch.allclose(filled, real[:, torch.from_numpy(hole)])
    assert filled.unique().numel() == (1 if fill == "none" else 3)


def test_a_tracked_person_keeps_its_stranger_silhouette_whatever_its_box_fill_took():
    """The silhouette of a whole box comes from the person's own stream (the track's, in a video), apart from the
    box fill, which takes as many values as the box has pixels: the same person in boxes of other sizes gets the
    same stranger's outline (stretched to each box), and another person another one."""
    model = random_model({"model": "psgan", "netG": "unet_64", "ngf": 8, "crop_size": 64, "load_size": 64,
                          "bbox_noise": "random", "netG_mask_input": True, "netG_silhouette_input": True})
    masks = np.zeros((8, *GRID), dtype=bool)
    for k in range(8):  # eight distinct outlines: a bar at column k*4
        masks[k, :, 4 * k:4 * k + 4] = True
    model.silhouettes = SilhouetteBank(masks, np.full(8, 2.0))
    generator = WindowGenerator(model)
    pixels = textured(np.random.default_rng(4), 64, 64)

    def outline(box, person_seed):
        window = Window(pixels=pixels, box=box, rng=np.random.default_rng(person_seed))
        generator.input_tensor(window)  # the fill draws first, as in a batch
        x1, y1, x2, y2 = box
        silhouette = generator.silhouette_tensor([window])[0, 0, y1:y2, x1:x2].numpy()
        return cv2.resize(silhouette, (GRID[1], GRID[0]), interpolation=cv2.INTER_NEAREST).astype(bool)

    same = [outline((20, 10, 36, 42), [0, 7]), outline((18, 6, 42, 54), [0, 7])]  # the box grew: more fill drawn
    assert np.array_equal(same[0], same[1])
    others = {outline((20, 10, 36, 42), [0, seed]).tobytes() for seed in range(8, 16)}
    assert len(others) > 2
