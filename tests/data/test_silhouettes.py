"""data.silhouettes: the bank of training silhouettes a whole box is painted with by a silhouette-input generator."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from data import silhouettes
from data.silhouettes import GRID, SilhouetteBank, SilhouetteError, bank_from_crops, bank_path, load_bank


def two_shapes() -> SilhouetteBank:
    """A tall, thin person (box aspect 4) and a wide one (aspect 1), each filling the left half of its grid."""
    masks = np.zeros((2, *GRID), dtype=bool)
    masks[:, :, : GRID[1] // 2] = True
    return SilhouetteBank(masks, np.array([4.0, 1.0]))


def test_the_bank_holds_each_training_crop_silhouette_and_survives_a_round_trip(crop_dataroot, tmp_path):
    bank = bank_from_crops(crop_dataroot)
    crops = sorted((crop_dataroot / "images" / "train").glob("*.png"))
    assert len(bank) == len(crops) == 6  # every crop's box holds its person
    assert bank.masks.shape == (6, *GRID)
    # A person fills part of its box, not all of it and not nothing.
    assert all(0.15 < mask.mean() < 0.95 for mask in bank.masks)
    assert np.all((bank.aspects > 1) & (bank.aspects < 8))  # pedestrians' boxes are taller than wide
    loaded = load_bank(bank.save(tmp_path / "bank.npz"))
    assert np.array_equal(loaded.masks, bank.masks) and np.array_equal(loaded.aspects, bank.aspects)


def test_a_draw_is_a_silhouette_of_the_nearest_aspect_stretched_and_sometimes_mirrored(monkeypatch):
    monkeypatch.setattr(silhouettes, "NEAREST", 1)
    bank = two_shapes()
    rng = np.random.default_rng(0)
    draws = [bank.draw(40, 10, rng) for _ in range(40)]
    assert all(draw.shape == (40, 10) for draw in draws)
    left = sum(draw[:, :5].all() and not draw[:, 5:].any() for draw in draws)
    right = sum(draw[:, 5:].all() and not draw[:, :5].any() for draw in draws)
    assert left + right == 40 and 10 < left < 30  # the half-filled silhouette, mirrored about half the time


def test_a_box_too_small_for_the_silhouette_is_filled():
    masks = np.zeros((1, *GRID), dtype=bool)
    masks[0, 30:34, 15:17] = True  # a speck: nothing of it survives at 2×2
    draw = SilhouetteBank(masks, np.array([2.0])).draw(2, 2, np.random.default_rng(0))
    assert draw.all()


def test_bank_paths_of_a_run_and_of_a_model_file(tmp_path):
    assert bank_path(tmp_path) == tmp_path / "silhouettes.npz"
    assert bank_path(tmp_path / "demo_psgan.pth") == tmp_path / "demo_psgan_silhouettes.npz"


def test_a_broken_or_missing_bank_is_one_error_naming_the_file(tmp_path):
    with pytest.raises(SilhouetteError, match="missing.npz: silhouette bank not found"):
        load_bank(tmp_path / "missing.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(SilhouetteError, match="broken.npz: not a silhouette bank"):
        load_bank(broken)
    other_grid = tmp_path / "grid.npz"
    np.savez(other_grid, version=1, grid=np.array([8, 4]), bits=np.zeros((1, 4), np.uint8), aspects=np.ones(1))
    with pytest.raises(SilhouetteError, match="grid.npz: silhouette bank of version 1, grid \\(8, 4\\)"):
        load_bank(other_grid)


def test_crops_without_person_masks_are_one_error_naming_the_folder(crop_dataroot, tmp_path, capsys):
    for part in ("images", "bbox"):
        shutil.copytree(crop_dataroot / part, tmp_path / "crops" / part)
    with pytest.raises(SilhouetteError, match="person_mask/train: folder not found"):
        bank_from_crops(tmp_path / "crops")
    assert silhouettes.main(["--dataroot", str(tmp_path / "crops"), "--out", str(tmp_path / "b.npz")]) == 1
    assert "person_mask/train: folder not found" in capsys.readouterr().err
    assert not (tmp_path / "b.npz").exists()
    assert silhouettes.main(["--dataroot", str(crop_dataroot), "--out", str(tmp_path / "b.npz")]) == 0
    assert len(load_bank(tmp_path / "b.npz")) == 6
