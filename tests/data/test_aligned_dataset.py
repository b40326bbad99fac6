"""The crop dataset, the registry and the loader (data/aligned_dataset.py, data/__init__.py)."""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

import data
from data import Batch, DatasetError, create_dataset, find_dataset_using_name, get_option_setter
from data.aligned_dataset import AlignedDataset
from data.boxes import box_mask
from data.transforms import to_tensor

BOX = (16, 8, 40, 56)


@pytest.fixture
def root(tmp_path, sample_writer):
    """Three good samples, written out of order with mixed schemas."""
    sample_writer(tmp_path, "c_2", box=(0, 0, 20, 64), seed=2)
    sample_writer(tmp_path, "a_0", box=BOX, seed=0)
    sample_writer(tmp_path, "b_1", box=(30, 10, 64, 50), schema="legacy", seed=1)
    return tmp_path


def exact_opt(opt_factory, root, **kw):
    """No resampling, no flip: tensors can be compared with the PNG pixels."""
    kw = {"preprocess": "resize", "load_size": 64, "no_flip": True, **kw}
    return opt_factory(root, **kw)


def halves(path):
    ab = np.asarray(Image.open(path).convert("RGB"))
    half = ab.shape[1] // 2
    return to_tensor(Image.fromarray(ab[:, :half])), to_tensor(Image.fromarray(ab[:, half:]))


# ---- items ---------------------------------------------------------------------------------------
def test_item_keys_shapes_and_types(root, opt_factory):
    dataset = AlignedDataset(opt_factory(root))
    item = dataset[0]
    assert isinstance(item, Batch) and len(item) == 1 and item.small is None
    assert item.A[0].shape == item.B[0].shape == (3, 64, 64)
    assert item.A[0].dtype == torch.float32 and item.A[0].min() >= -1 and item.B[0].max() <= 1
    assert item.boxes[0].dtype == torch.int64 and item.boxes[0].shape == (4,)
    x1, y1, x2, y2 = item.boxes[0].tolist()
    assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
    assert item.paths == [str(root / "images" / "train" / "a_0.png")]


def test_samples_pair_by_stem_in_stem_order(root, opt_factory, sample_writer):
    sample_writer(root, "d_3", box=BOX, suffix=".extra.png")  # stem ends at the first dot
    (root / "bbox" / "train" / "zz_orphan.json").write_text('{"x1": 0}')  # a JSON without image is ignored
    dataset = AlignedDataset(opt_factory(root))
    assert [s.stem for s in dataset.samples] == ["a_0", "b_1", "c_2", "d_3"]
    assert [s.box for s in dataset.samples] == [BOX, (30, 10, 64, 50), (0, 0, 20, 64), BOX]


def test_btoa_input_is_the_filled_right_half_and_target_the_clean_left(root, opt_factory):
    item = AlignedDataset(exact_opt(opt_factory, root))[0]
    clean, noisy = halves(item.paths[0])
    inside = box_mask(BOX, 64, 64).bool().expand(3, 64, 64)
    assert item.boxes[0].tolist() == list(BOX)
    assert torch.equal(item.B[0], clean)
    assert (item.A[0][inside] == 0).all()
    assert torch.equal(item.A[0][~inside], noisy[~inside]) and torch.equal(noisy[~inside], clean[~inside])


def test_atob_swaps_the_halves(root, opt_factory):
    item = AlignedDataset(exact_opt(opt_factory, root, direction="AtoB", bbox_noise="original"))[0]
    clean, noisy = halves(item.paths[0])
    assert torch.equal(item.A[0], clean) and torch.equal(item.B[0], noisy)


def test_bbox_noise_modes(root, opt_factory):
    x1, y1, x2, y2 = BOX
    original = AlignedDataset(exact_opt(opt_factory, root, bbox_noise="original"))[0]
    _, noisy = halves(original.paths[0])
    assert torch.equal(original.A[0], noisy)  # the PNG's 0/127/255 noise, kept
    random = AlignedDataset(exact_opt(opt_factory, root, bbox_noise="random"))[0]
    patch = random.A[0][:, y1:y2, x1:x2]
    assert set(patch.unique().tolist()) == {-1.0, 0.0, 1.0}
    assert torch.equal(patch[0], patch[1]) and torch.equal(patch[1], patch[2])
    assert not torch.equal(patch, noisy[:, y1:y2, x1:x2])
    assert torch.equal(random.B[0], original.B[0])


def test_bad_options_are_rejected(root, opt_factory):
    with pytest.raises(ValueError, match="bbox_noise"):
        AlignedDataset(opt_factory(root, bbox_noise="grey"))
    with pytest.raises(ValueError, match="direction"):
        AlignedDataset(opt_factory(root, direction="BA"))


def test_flip_mirrors_image_and_box_together(root, opt_factory):
    dataset = AlignedDataset(exact_opt(opt_factory, root, no_flip=False))
    clean, _ = halves(dataset.samples[0].path)
    flips = set()
    for epoch in range(8):
        dataset.set_epoch(epoch)
        item = dataset[0]
        flipped = item.boxes[0].tolist() != list(BOX)
        flips.add(flipped)
        assert torch.equal(item.B[0], clean.flip(-1) if flipped else clean)
        if flipped:
            assert item.boxes[0].tolist() == [64 - BOX[2], BOX[1], 64 - BOX[0], BOX[3]]
    assert flips == {True, False}


def test_colour_jitter_is_shared_and_only_in_train(root, opt_factory):
    opts = {"preprocess": "resize_color", "load_size": 64, "no_flip": True, "bbox_noise": "original"}
    train = AlignedDataset(opt_factory(root, **opts))[0]
    val = AlignedDataset(opt_factory(root, **opts, isTrain=False))[0]
    clean, noisy = halves(train.paths[0])
    assert torch.equal(val.B[0], clean) and not torch.equal(train.B[0], clean)
    # One brightness factor for both halves: outside the box, where the halves agree, so do the outputs.
    outside = ~box_mask(BOX, 64, 64).bool().expand(3, 64, 64)
    assert torch.equal(train.A[0][outside], train.B[0][outside])


def test_grayscale_input(root, opt_factory):
    item = AlignedDataset(opt_factory(root, input_nc=1))[0]
    assert item.A[0].shape == (1, 64, 64) and item.B[0].shape == (3, 64, 64)


# ---- determinism ---------------------------------------------------------------------------------
def test_same_seed_same_tensors_bit_for_bit(root, opt_factory):
    opt = opt_factory(root, preprocess="resize_crop_color_contrast", bbox_noise="random")
    first, second = AlignedDataset(opt), AlignedDataset(opt)
    for index in range(len(first)):
        a, b = first[index], second[index]
        for key in ("A", "B", "boxes"):
            assert torch.equal(getattr(a, key), getattr(b, key))
    assert torch.equal(first[1].A[0], first[1].A[0])  # no hidden state between calls


def test_epoch_and_seed_change_the_draws(root, opt_factory):
    opt = opt_factory(root, preprocess="resize_crop", load_size=96, bbox_noise="random")
    dataset = AlignedDataset(opt)
    epoch0 = [dataset[i] for i in range(len(dataset))]
    dataset.set_epoch(1)
    epoch1 = [dataset[i] for i in range(len(dataset))]
    assert any(not torch.equal(a.B[0], b.B[0]) for a, b in zip(epoch0, epoch1, strict=True))
    other_seed = AlignedDataset(opt_factory(root, preprocess="resize_crop", load_size=96, seed=7))
    assert any(not torch.equal(a.B[0], other_seed[i].B[0]) for i, a in enumerate(epoch0))


def test_workers_do_not_change_the_samples(root, opt_factory):
    opt = opt_factory(root, preprocess="resize_crop_contrast", bbox_noise="random", serial_batches=True)
    direct = [AlignedDataset(opt)[i].A[0] for i in range(3)]
    loader = create_dataset(argparse.Namespace(**{**vars(opt), "num_threads": 2}))
    batches = [batch.A[0] for batch in loader]
    assert all(torch.equal(a, b) for a, b in zip(direct, batches, strict=True))


# ---- progan --------------------------------------------------------------------------------------
def test_progan_keys_shapes_and_small_box(root, opt_factory):
    opt = exact_opt(opt_factory, root, small_input_size=32)
    item = AlignedDataset(opt)[0]
    assert item.small.paths == item.paths
    assert item.A[0].shape == item.B[0].shape == (3, 64, 64)
    assert item.small.A[0].shape == item.small.B[0].shape == (3, 32, 32)
    assert item.boxes[0].tolist() == list(BOX)
    assert item.small.boxes[0].tolist() == [8, 4, 20, 28]
    assert item.small.A[0].abs().max() <= 1 and item.small.B[0].abs().max() <= 1
    x1, y1, x2, y2 = item.small.boxes[0].tolist()
    assert (item.small.A[0][:, y1:y2, x1:x2] == 0).all()


def test_progan_small_box_ceils_odd_corners(tmp_path, sample_writer, opt_factory):
    sample_writer(tmp_path, "odd", box=(15, 9, 41, 57))
    item = AlignedDataset(exact_opt(opt_factory, tmp_path, small_input_size=32))[0]
    assert item.small.boxes[0].tolist() == [7, 4, 21, 29]  # floor x1/y1, ceil x2/y2


# ---- bad data ------------------------------------------------------------------------------------
def _truncated(root, stem):
    path = root / "images" / "train" / f"{stem}.png"
    path.write_bytes(path.read_bytes()[:-200])


def _garbage(root, stem):
    (root / "images" / "train" / f"{stem}.png").write_bytes(b"this is not a png" * 10)


def _missing_json(root, stem):
    (root / "bbox" / "train" / f"{stem}.json").unlink()


def _json(content):
    def write(root, stem):
        (root / "bbox" / "train" / f"{stem}.json").write_text(content)

    return write


def _wide(root, stem):
    Image.new("RGB", (100, 64)).save(root / "images" / "train" / f"{stem}.png")


BAD_CASES = {
    "garbage": (_garbage, "unreadable image", "cannot read image"),
    "missing_json": (_missing_json, "missing JSON", "missing box file"),
    "malformed_json": (_json("{oops"), "malformed JSON", "malformed JSON"),
    "wrong_keys": (_json('{"left": 1, "top": 2, "w": 3, "h": 4}'), "bad JSON keys", "expected keys"),
    "empty_box": (_json('{"x1": 20, "y1": 5, "x2": 20, "y2": 40}'), "empty box", "empty box"),
    "outside": (_json('{"x1": 10, "y1": 5, "x2": 70, "y2": 40}'), "box outside the image", "64x64"),
    "not_2_to_1": (_wide, "bad image size", "twice as wide as tall, got 100x64"),
    "tiny_box": (_json('{"x1": 10, "y1": 5, "x2": 14, "y2": 40}'), "box too small", "box too small"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_sample_raises_naming_the_file(root, opt_factory, sample_writer, case):
    spoil, _, problem = BAD_CASES[case]
    sample_writer(root, f"bad_{case}", box=BOX)
    spoil(root, f"bad_{case}")
    with pytest.raises(DatasetError) as info:
        AlignedDataset(opt_factory(root))
    message = str(info.value)
    assert message.startswith(str(root)) and f"bad_{case}" in message.split(":")[0]
    assert problem in message


def test_truncated_image_fails_when_loaded(root, opt_factory, sample_writer):
    sample_writer(root, "bad_truncated", box=BOX)
    _truncated(root, "bad_truncated")
    dataset = AlignedDataset(opt_factory(root))  # the header is fine: construction stays cheap
    with pytest.raises(DatasetError, match=r"bad_truncated\.png: cannot read image"):
        dataset[[s.stem for s in dataset.samples].index("bad_truncated")]


def test_skip_bad_samples_counts_and_warns(root, opt_factory, sample_writer, capsys):
    for case, (spoil, _, _) in BAD_CASES.items():
        sample_writer(root, f"bad_{case}", box=BOX)
        spoil(root, f"bad_{case}")
    sample_writer(root, "bad_truncated", box=BOX)
    _truncated(root, "bad_truncated")
    loader = create_dataset(opt_factory(root, skip_bad_samples=True))
    assert len(loader) == 3 and all(not s.stem.startswith("bad") for s in loader.dataset.samples)
    captured = capsys.readouterr()
    skip_lines = captured.err.strip().splitlines()
    assert len(skip_lines) == len(BAD_CASES) + 1
    assert all(line.startswith(f"[dataset] skipping {root}") for line in skip_lines)
    summary = captured.out.strip()
    assert summary.startswith(f"[dataset] train: 3 samples, {len(BAD_CASES) + 1} skipped (")
    for kind, count in [("unreadable image", 2), ("missing JSON", 1), ("box outside the image", 1)]:
        assert f"{count} {kind}" in summary


def test_nothing_usable_is_an_error(tmp_path, opt_factory, sample_writer):
    sample_writer(tmp_path, "only", box=BOX)
    _garbage(tmp_path, "only")
    with pytest.raises(DatasetError, match="no usable samples"):
        AlignedDataset(opt_factory(tmp_path, skip_bad_samples=True))


def test_missing_and_empty_folders(tmp_path, opt_factory, sample_writer):
    with pytest.raises(DatasetError, match=r"images[/\\]train: image folder not found"):
        AlignedDataset(opt_factory(tmp_path))
    (tmp_path / "images" / "train").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"images[/\\]train: no images found"):
        AlignedDataset(opt_factory(tmp_path))
    sample_writer(tmp_path, "a", box=BOX, phase="val")
    (tmp_path / "bbox" / "val" / "a.json").unlink()
    (tmp_path / "bbox" / "val").rmdir()
    with pytest.raises(DatasetError, match=r"bbox[/\\]val: box folder not found"):
        AlignedDataset(opt_factory(tmp_path, phase="val"))


def test_duplicate_stems_are_rejected(root, opt_factory):
    nested = root / "images" / "train" / "sub"
    nested.mkdir()
    (nested / "a_0.png").write_bytes((root / "images" / "train" / "a_0.png").read_bytes())
    with pytest.raises(DatasetError, match="duplicate stem 'a_0'"):
        AlignedDataset(opt_factory(root))


def test_max_dataset_size_caps_after_sorting(root, opt_factory):
    dataset = AlignedDataset(opt_factory(root, max_dataset_size=2))
    assert [s.stem for s in dataset.samples] == ["a_0", "b_1"]


def test_legacy_and_new_schema_give_the_same_item(tmp_path, opt_factory, sample_writer):
    sample_writer(tmp_path / "new", "p", box=BOX, schema="new")
    sample_writer(tmp_path / "old", "p", box=BOX, schema="legacy")
    assert json.loads((tmp_path / "old" / "bbox" / "train" / "p.json").read_text()) == dict(
        zip("xywh", BOX, strict=True)
    )
    new = AlignedDataset(opt_factory(tmp_path / "new"))[0]
    old = AlignedDataset(opt_factory(tmp_path / "old"))[0]
    assert torch.equal(new.A[0], old.A[0]) and torch.equal(new.boxes[0], old.boxes[0])


# ---- registry and loader -------------------------------------------------------------------------
def test_registry():
    assert find_dataset_using_name("aligned") is AlignedDataset
    assert data.available_dataset_modes() == ["aligned"]
    with pytest.raises(ValueError, match="unknown dataset_mode 'unaligned'.*aligned"):
        find_dataset_using_name("unaligned")
    parser = object()
    assert get_option_setter("aligned")(parser, True) is parser  # adds nothing


def test_loader_batches_of_two(root, opt_factory, capsys):
    loader = create_dataset(opt_factory(root, batch_size=2)).load_data()
    assert capsys.readouterr().out.strip() == "[dataset] train: 3 samples"
    assert len(loader) == 3
    batches = list(loader)
    assert [len(b.paths) for b in batches] == [2, 1]
    first = batches[0]
    assert first.A.shape == first.B.shape == (2, 3, 64, 64)
    assert first.boxes.shape == (2, 4) and first.boxes.dtype == torch.int64
    assert isinstance(first.paths, list) and isinstance(first.paths[0], str)


def test_loader_shuffle_depends_on_seed_and_epoch_only(tmp_path, opt_factory, sample_writer):
    for i in range(8):
        sample_writer(tmp_path, f"s_{i}", box=BOX, seed=i)
    opt = opt_factory(tmp_path, preprocess="resize", load_size=64, batch_size=8)

    def order(epoch):
        loader = create_dataset(opt)
        loader.set_epoch(epoch)
        return next(iter(loader)).paths

    assert order(3) == order(3)
    assert order(3) != order(4) or order(3) != order(5)
    serial = create_dataset(opt_factory(tmp_path, serial_batches=True, batch_size=8))
    assert next(iter(serial)).paths == sorted(next(iter(serial)).paths)


def test_iterate_resumes_mid_epoch(tmp_path, opt_factory, sample_writer):
    for i in range(5):
        sample_writer(tmp_path, f"s_{i}", box=BOX, seed=i)
    loader = create_dataset(opt_factory(tmp_path, batch_size=2, bbox_noise="random"))
    loader.set_epoch(2)
    assert loader.num_batches() == 3
    full = list(loader)
    resumed = list(loader.iterate(start_batch=1))
    assert len(resumed) == 2
    for a, b in zip(full[1:], resumed, strict=True):
        assert a.paths == b.paths
        assert torch.equal(a.A, b.A) and torch.equal(a.boxes, b.boxes)


def test_16_bit_greyscale_crop_gives_the_same_item_as_its_8_bit_copy(tmp_path, opt_factory, sample_writer):
    # The PIL reader clipped 16-bit grey levels to white: a model trained on a 94.7% white crop (issue 13).
    items = []
    for depth in (8, 16):
        root = tmp_path / str(depth)
        path = sample_writer(root, "a_0", box=BOX)
        grey = np.asarray(Image.open(path).convert("L"))
        cv2.imwrite(str(path), grey if depth == 8 else grey.astype(np.uint16) * 257)
        items.append(AlignedDataset(exact_opt(opt_factory, root))[0])
    assert torch.equal(items[0].A, items[1].A) and torch.equal(items[0].B, items[1].B)
    assert float(items[1].B.mean()) < 0.5  # not the near-white image the old reader made of it


# ---- person masks (--L1_box_background_weight) ------------------------------------------------------------
def write_person_mask(root, stem, phase="train"):
    """A person mask for the crop: the left half of the box (columns 16..27, rows 8..55) is 'person'."""
    mask = np.zeros((64, 64), np.uint8)
    mask[8:56, 16:28] = 255
    (root / "person_mask" / phase).mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(root / "person_mask" / phase / f"{stem}.png")
    return torch.from_numpy(mask >= 128).float()[None]


def test_person_masks_are_loaded_only_when_the_loss_needs_them(root, opt_factory):
    for stem in ("a_0", "b_1", "c_2"):
        write_person_mask(root, stem)
    assert AlignedDataset(opt_factory(root))[0].person_mask is None
    assert AlignedDataset(opt_factory(root, L1_box_background_weight=1.0, isTrain=False))[0].person_mask is None
    item = AlignedDataset(exact_opt(opt_factory, root, L1_box_background_weight=1.0))[0]
    assert item.person_mask.shape == (1, 1, 64, 64) and item.person_mask.sum() == 48 * 12


def test_person_mask_follows_the_crop_resize_and_flip(root, opt_factory):
    mask = write_person_mask(root, "a_0")
    dataset = AlignedDataset(opt_factory(root, L1_box_background_weight=1.0, preprocess="resize_crop",
                                         load_size=72, max_dataset_size=1))
    seen_flip = set()
    for epoch in range(8):
        dataset.set_epoch(epoch)
        item = dataset[0]
        x1, y1, x2, y2 = item.boxes[0].tolist()
        person = item.person_mask[0, 0]
        flipped = bool(person[(y1 + y2) // 2, x1 + 1] == 0)  # the person half of the box is now on the right
        seen_flip.add(flipped)
        # The mask moved with the box: it lies inside it and fills about its left (or, flipped, right) half.
        assert person[:, :x1].sum() == 0 and person[:, x2:].sum() == 0
        assert abs(person.sum().item() - mask.sum().item() * (72 / 64) ** 2) < 0.1 * mask.sum().item()
        half = (x2 - x1) // 2
        side = person[y1:y2, x2 - half:x2] if flipped else person[y1:y2, x1:x1 + half]
        assert side.mean() > 0.9
    assert seen_flip == {False, True}


def test_missing_person_masks_are_named(root, opt_factory):
    with pytest.raises(DatasetError, match=r"person_mask[/\\]train: person mask folder not found"):
        AlignedDataset(opt_factory(root, L1_box_background_weight=1.0))
    write_person_mask(root, "a_0")
    with pytest.raises(DatasetError, match=r"person_mask[/\\]train[/\\]b_1\.png: missing person mask"):
        AlignedDataset(opt_factory(root, L1_box_background_weight=1.0))
    dataset = AlignedDataset(opt_factory(root, L1_box_background_weight=1.0, skip_bad_samples=True))
    assert [s.stem for s in dataset.samples] == ["a_0"] and dataset.skipped["missing mask"] == 2
