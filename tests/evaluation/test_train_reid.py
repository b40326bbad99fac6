"""python -m evaluation.train_reid: data layouts, the P×K sampler, training, resume, evaluation, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evaluation import reid_data, train_reid
from evaluation.reid import load_reid_extractor, read_reid_checkpoint

SIZE = (32, 16)
# A tiny, fast recipe: 32×16 crops, 4 identities × 2 crops per batch.
TINY = ["--size", "32x16", "--ids_per_batch", "4", "--crops_per_id", "2", "--warmup_epochs", "1", "--quiet"]


def person(rng: np.random.Generator, colours: np.ndarray) -> np.ndarray:
    """A 64×32 'person': a top and a bottom colour of the identity, some noise, a random background band."""
    image = np.empty((64, 32, 3), np.float32)
    image[:32], image[32:] = colours[0], colours[1]
    image[:, :4] = rng.uniform(0, 255, 3)
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_market(root: Path, seed: int = 0) -> Path:
    """Market-1501 layout: 8 training identities (pids 1-8), 4 test identities (pids 11-14) in 2 cameras,
    plus junk (-1), distractors (0000) and a file whose name is not <pid>_c<cam>."""
    rng = np.random.default_rng(seed)
    colours = {pid: rng.uniform(0, 255, (2, 3)) for pid in list(range(1, 9)) + list(range(11, 15))}

    def save(folder: str, name: str, pid: int) -> None:
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fill = colours[pid] if pid > 0 else rng.uniform(0, 255, (2, 3))
        Image.fromarray(person(rng, fill)).save(path)

    for pid in range(1, 9):
        for cam in (1, 2):
            for k in range(2):
                save("bounding_box_train", f"{pid:04d}_c{cam}s1_{k:06d}_01.jpg", pid)
    for pid in range(11, 15):
        save("query", f"{pid:04d}_c1s1_000000_00.jpg", pid)
        for cam in (1, 2):
            save("bounding_box_test", f"{pid:04d}_c{cam}s2_{pid:06d}_01.jpg", pid)
    save("bounding_box_test", "-1_c1s1_000001_00.jpg", -1)
    save("bounding_box_test", "0000_c2s1_000002_00.jpg", 0)
    save("bounding_box_train", "0000_c1s1_000003_00.jpg", 0)
    save("bounding_box_test", "readme.jpg", 0)
    return root


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Path:
    return write_market(tmp_path_factory.mktemp("market"))


@pytest.fixture(scope="module")
def demo_root(crop_dataroot: Path) -> Path:
    """The demo frames (512×256, seed 3) the shared crop dataset was made from."""
    return crop_dataroot.parent / "frames"


def test_market_layout_follows_the_standard_protocol(market: Path):
    data = reid_data.load_reid_data(market, SIZE, quiet=True)
    assert data.layout == "market"
    assert (len(data.train), data.train.n_ids) == (32, 8)  # the train distractor is no identity to learn
    assert (len(data.query), data.query.n_ids) == (4, 4)
    assert len(data.gallery) == 9 and 0 in data.gallery.pids and -1 not in data.gallery.pids  # junk dropped
    assert data.train.crops.shape == (32, *SIZE, 3) and data.train.crops.dtype == np.uint8
    assert sorted(set(data.gallery.cams.tolist())) == [1, 2]
    assert data.summary["skipped"] == {"pid 0 in bounding_box_train/ (distractor)": 1,
                                       "pid -1 in bounding_box_test/ (junk)": 1, "name not <pid>_c<cam>...": 1}


def test_market_with_shared_train_and_query_identities_is_refused(tmp_path: Path):
    root = write_market(tmp_path / "m")
    (root / "query" / "0011_c1s1_000000_00.jpg").rename(root / "query" / "0003_c1s1_000000_00.jpg")
    with pytest.raises(reid_data.DatasetError, match="both in bounding_box_train/ and query/"):
        reid_data.load_reid_data(root, SIZE, quiet=True)


def test_demo_layout_cuts_visible_boxes_with_frames_as_cameras(demo_root: Path):
    keep = reid_data.DemoFilter(min_height=80, min_visibility=0.5)
    data = reid_data.load_reid_data(demo_root, (64, 32), demo_filter=keep, quiet=True)
    assert data.layout == "demo" and data.query is data.gallery and data.summary["demo_seed"] == 3
    identities = json.loads((demo_root / "identities.json").read_text())["identities"]
    assert {identities[str(p)]["split"] for p in data.train.pids} == {"train"}
    assert {identities[str(p)]["split"] for p in data.query.pids} <= {"val", "test"}
    assert not set(data.train.pids.tolist()) & set(data.query.pids.tolist())
    # A frame shows a person at most once: (identity, camera) pairs are unique.
    pairs = list(zip(data.query.pids.tolist(), data.query.cams.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    # The first crop is the re-ID window around its visible box.
    stem, instance = data.train.names[0].split("#")
    annotation = next(demo_root.glob(f"gtBboxCityPersons/train/*/{stem}_gtBboxCityPersons.json"))
    obj = next(o for o in json.loads(annotation.read_text())["objects"] if o["instanceId"] == int(instance))
    x, y, w, h = obj["bboxVis"]
    frame = np.asarray(Image.open(next(demo_root.glob(f"leftImg8bit/train/*/{stem}_leftImg8bit.png"))).convert("RGB"))
    np.testing.assert_array_equal(data.train.crops[0], reid_data.reid_crop(frame, (x, y, x + w, y + h), (64, 32)))
    # The filter is applied and counted.
    stricter = reid_data.load_reid_data(demo_root, (64, 32), demo_filter=reid_data.DemoFilter(min_height=120),
                                        quiet=True)
    assert len(stricter.train) < len(data.train)
    assert stricter.summary["skipped"]["visible height below min_height"] > \
        data.summary["skipped"].get("visible height below min_height", 0)


def test_pk_batches_cover_identities_once_with_k_crops_each():
    pids = np.array([5, 5, 5, 7, 9, 9, 11, 11, 11, 11])
    batches = train_reid.pk_batches(pids, 2, 3, np.random.default_rng(0))
    assert len(batches) == 2  # 4 identities, P = 2
    seen = []
    for batch in batches:
        ids = pids[batch]
        assert len(batch) == 6 and len(set(ids.tolist())) == 2
        for pid in set(ids.tolist()):
            members = batch[ids == pid]
            assert len(members) == 3
            if (pids == pid).sum() >= 3:
                assert len(set(members.tolist())) == 3  # without replacement when enough crops
        seen += sorted(set(ids.tolist()))
    assert sorted(seen) == [5, 7, 9, 11]


def test_augment_flips_crops_and_erases_with_the_mean_colour():
    torch.manual_seed(0)
    batch = torch.randn(64, 3, 32, 16) + 5.0  # no pixel is 0 (the mean colour) before erasing
    out = train_reid.augment(batch, torch.Generator().manual_seed(1), erase_prob=1.0)
    assert out.shape == batch.shape
    zero_fraction = (out == 0).all(dim=1).float().mean(dim=(1, 2))
    assert (zero_fraction > 0).all()  # every crop has a padded border or an erased patch
    same = train_reid.augment(batch, torch.Generator().manual_seed(1), erase_prob=1.0)
    assert torch.equal(out, same)  # seeded
    untouched = train_reid.augment(batch, torch.Generator().manual_seed(1), erase_prob=0.0)
    assert ((untouched == 0).all(dim=1).float().mean(dim=(1, 2)) < zero_fraction).any()


def test_batch_hard_triplet_by_hand():
    features = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 2.5]])
    labels = torch.tensor([0, 0, 1, 1])
    # (hardest positive, hardest negative) per anchor: (1, 2), (1, sqrt 5), (0.5, 2), (0.5, 2.5).
    assert train_reid.batch_hard_triplet(features, labels, 0.3).item() == pytest.approx(0.0)
    expected = np.mean([1 - 2 + 2, 1 - np.sqrt(5) + 2, 0.5 - 2 + 2, 0.5 - 2.5 + 2])
    assert train_reid.batch_hard_triplet(features, labels, 2.0).item() == pytest.approx(expected, rel=1e-5)


def test_training_triplet_cannot_be_escaped_by_shrinking_the_embeddings():
    generator = torch.Generator().manual_seed(0)
    embedding = torch.rand(8, 16, generator=generator) * 4  # non-negative, like OSNet's ReLU output
    labels = torch.arange(4).repeat_interleave(2)
    # Raw distances: shrinking every embedding drives the loss down to the margin (the collapse seen on demo data).
    assert train_reid.batch_hard_triplet(embedding * 1e-4, labels, 0.3).item() == pytest.approx(0.3, abs=1e-3)
    assert train_reid.batch_hard_triplet(embedding, labels, 0.3).item() > 0.5
    # The training loss compares directions only: the same for any scale.
    loss = train_reid.triplet_loss(embedding, labels, 0.3).item()
    assert loss == pytest.approx(train_reid.triplet_loss(embedding * 1e-4, labels, 0.3).item(), rel=1e-5)
    unit = embedding / embedding.norm(dim=1, keepdim=True)
    assert loss == pytest.approx(train_reid.batch_hard_triplet(unit, labels, 0.3).item(), rel=1e-6)


def test_warmup_then_cosine():
    assert train_reid.warmup_cosine(0, 10, 110) == pytest.approx(0.1)
    assert train_reid.warmup_cosine(5, 10, 110) == pytest.approx(0.55)
    assert train_reid.warmup_cosine(10, 10, 110) == pytest.approx(1.0)
    assert train_reid.warmup_cosine(60, 10, 110) == pytest.approx(0.5)
    assert train_reid.warmup_cosine(110, 10, 110) == pytest.approx(0.0, abs=1e-12)


def test_training_learns_and_the_file_loads_for_evaluation(market: Path, tmp_path: Path, capsys, monkeypatch):
    out = tmp_path / "osnet.pth"
    # The commit recorded is the checkout's when training starts: a file edited while it runs does not count.
    checkout = {"state": "abc123"}
    real_train = train_reid.train

    def train_then_edit(*args, **kwargs):
        result = real_train(*args, **kwargs)
        checkout["state"] = "abc123 (with uncommitted changes)"
        return result

    monkeypatch.setattr(train_reid, "train", train_then_edit)
    monkeypatch.setattr(train_reid, "git_commit", lambda: checkout["state"])
    assert train_reid.main(["--data", str(market), "--out", str(out), "--epochs", "12", "--eval_every", "0",
                            "--lr", "0.003", *TINY, "--crops_per_id", "4"]) == 0
    printed = capsys.readouterr().out
    assert "held-out rank-1" in printed and not train_reid.state_path(out).exists()
    checkpoint = read_reid_checkpoint(out)
    assert checkpoint.arch == "osnet_x0_25" and checkpoint.input_size == SIZE
    assert not any(k.startswith("classifier") for k in checkpoint.state) and "neck.weight" in checkpoint.state
    meta = checkpoint.meta
    assert meta["command"].startswith("python -m evaluation.train_reid --data")
    assert meta["data"]["layout"] == "market" and meta["date"] and meta["machine"] and meta["git_commit"] == "abc123"
    history = meta["history"]
    assert len(history) == 12
    # Two batches an epoch make single epochs noisy: the identity loss falls from the first to the last third.
    assert np.mean([h["id_loss"] for h in history[-4:]]) < np.mean([h["id_loss"] for h in history[:4]]) - 0.1
    # The file is an extractor for evaluation.evaluate and gives the same held-out numbers as at the end of
    # training; those beat chance (4 held-out people in 9 gallery images).
    extractor = load_reid_extractor(weights=out)
    assert extractor.is_reid_model and extractor.input_size == SIZE and "train_reid" in extractor.description
    result = reid_data.evaluate(extractor, reid_data.load_reid_data(market, SIZE, with_train=False, quiet=True))
    assert result == meta["held_out"]
    assert result["n_queries"] == 4 and result["mAP"] > 0.5
    # Running the finished command again changes nothing.
    stamp = out.stat().st_mtime_ns
    assert train_reid.main(["--data", str(market), "--out", str(out), "--epochs", "12", *TINY]) == 0
    assert out.stat().st_mtime_ns == stamp and "nothing to do" in capsys.readouterr().out


def test_an_interrupted_run_continues_to_the_same_weights(market: Path, tmp_path: Path, monkeypatch):
    args = ["--data", str(market), "--epochs", "3", "--save_every", "3", "--eval_every", "0", *TINY]
    assert train_reid.main([*args, "--out", str(tmp_path / "straight.pth")]) == 0

    original, saves = train_reid.save_state, []

    def interrupt_after_second_save(*a, **k):
        original(*a, **k)
        saves.append(a[2].progress.global_step)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_reid, "save_state", interrupt_after_second_save)
    out = tmp_path / "resumed.pth"
    with pytest.raises(KeyboardInterrupt):
        train_reid.main([*args, "--out", str(out)])
    assert saves == [2, 3] and train_reid.state_path(out).is_file() and not out.exists()
    # 2 steps per epoch (8 ids / P 4): saved at the end of epoch 1, then mid-epoch 2 at step 3.
    monkeypatch.setattr(train_reid, "save_state", original)
    assert train_reid.main([*args, "--out", str(out)]) == 0
    straight, resumed = read_reid_checkpoint(tmp_path / "straight.pth"), read_reid_checkpoint(out)
    assert straight.state.keys() == resumed.state.keys()
    assert all(torch.equal(straight.state[k], resumed.state[k]) for k in straight.state)
    assert straight.meta["held_out"] == resumed.meta["held_out"]
    assert [h["id_loss"] for h in straight.meta["history"]] == [h["id_loss"] for h in resumed.meta["history"]]


def test_continuing_with_other_options_or_data_is_refused(market: Path, tmp_path: Path, capsys):
    out = tmp_path / "m.pth"
    args = ["--data", str(market), "--out", str(out), "--epochs", "2", "--save_every", "1", *TINY]

    def save_then_stop(run, recipe, data, targets, bar, save, save_every):
        save()
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_reid, "train_epoch", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            train_reid.main(args)
    state = train_reid.state_path(out)
    assert state.is_file()
    assert train_reid.main([*args, "--lr", "0.01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {state}: ") and "--lr (was 0.0015, now 0.01)" in err
    smaller = write_market(tmp_path / "smaller")
    next(smaller.glob("bounding_box_train/0001_*.jpg")).unlink()
    assert train_reid.main(["--data", str(smaller), *args[2:]]) == 2
    assert "the training data (was {'train_crops': 32, 'train_identities': 8}, now {'train_crops': 31" in \
        capsys.readouterr().err


def test_eval_only_and_bad_input(market: Path, demo_root: Path, tmp_path: Path, capsys):
    report = tmp_path / "alexnet.json"
    assert train_reid.main(["--eval_only", "--arch", "alexnet", "--data", str(demo_root), "--json", str(report),
                            "--quiet"]) == 0
    result = json.loads(report.read_text())
    assert "not a re-ID model" in result["model"] and result["data"]["layout"] == "demo"
    assert result["data"]["train"]["crops"] == 0  # evaluation reads no training crops
    assert result["metrics"]["n_queries"] > 0 and 0 <= result["metrics"]["mAP"] <= 1
    assert train_reid.main(["--eval_only", "--weights", str(tmp_path / "none.pth"), "--data", str(market)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert train_reid.main(["--data", str(tmp_path), "--out", str(tmp_path / "m.pth"), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path}: --data: neither demo data")
    with pytest.raises(SystemExit):
        train_reid.main(["--eval_only", "--data", str(market)])  # nothing to evaluate
