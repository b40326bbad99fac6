"""The one image reader: every sample layout to the same 8-bit RGB, any file name, bombs and broken files refused."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from util.image_files import MAX_PIXELS, ImageReadError, image_size, read_rgb

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
GREY = np.asarray(Image.fromarray(RGB).convert("L"))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A 60-byte PNG whose header declares width x height RGB pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def test_every_layout_reads_as_the_same_8_bit_rgb(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "rgb.png")
    Image.fromarray(RGB).convert("RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(RGB).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(RGB).convert("CMYK").save(tmp_path / "cmyk.tif")
    cv2.imwrite(str(tmp_path / "rgb16.png"), RGB[:, :, ::-1].astype(np.uint16) * 257)
    assert np.array_equal(read_rgb(tmp_path / "rgb.png"), RGB)
    assert np.array_equal(read_rgb(tmp_path / "rgba.png"), RGB)  # alpha dropped, colour kept
    assert np.array_equal(read_rgb(tmp_path / "palette.png"), np.asarray(Image.open(tmp_path / "palette.png")
                                                                           .convert("RGB")))
    assert np.array_equal(read_rgb(tmp_path / "cmyk.tif"), np.asarray(Image.open(tmp_path / "cmyk.tif")
                                                                       .convert("RGB")))
    assert np.array_equal(read_rgb(tmp_path / "rgb16.png"), RGB)


def test_16_bit_greyscale_keeps_its_grey_levels_not_white(tmp_path):
    # PIL's convert("RGB") of a 16-bit greyscale PNG clips every value above 255 to white: the old readers saw a
    # mid-grey 16-bit image as nearly all white.
    cv2.imwrite(str(tmp_path / "grey16.png"), GREY.astype(np.uint16) * 257)
    Image.fromarray(GREY).convert("LA").save(tmp_path / "grey_alpha.png")
    expected = np.repeat(GREY[:, :, None], 3, axis=2)
    assert np.array_equal(read_rgb(tmp_path / "grey16.png"), expected)
    assert np.array_equal(read_rgb(tmp_path / "grey_alpha.png"), expected)
    old = np.asarray(Image.open(tmp_path / "grey16.png").convert("RGB"))
    assert (old == 255).mean() > 0.9 and (expected == 255).mean() < 0.1


def test_float_images_scale_from_0_1(tmp_path):
    Image.fromarray(GREY.astype(np.float32) / 255.0).save(tmp_path / "float.tif")
    assert np.array_equal(read_rgb(tmp_path / "float.tif"), np.repeat(GREY[:, :, None], 3, axis=2))


def test_non_utf8_file_names_are_read(tmp_path):
    name = os.fsdecode(b"m\xfcnchen_000000_000019_leftImg8bit.png")  # Latin-1 bytes on a UTF-8 file system
    Image.fromarray(RGB).save(tmp_path / "plain.png")
    (tmp_path / name).write_bytes((tmp_path / "plain.png").read_bytes())
    assert np.array_equal(read_rgb(tmp_path / name), RGB)
    assert image_size(tmp_path / name) == (10, 12)


def test_a_decompression_bomb_header_is_refused_before_decoding(tmp_path):
    (tmp_path / "bomb.png").write_bytes(bomb_png(30000, 30000))  # 900 M pixels: 2.7 GB if decoded
    for reader in (read_rgb, image_size):
        with pytest.raises(ImageReadError, match=r"bomb\.png: .*decompression bomb"):
            reader(tmp_path / "bomb.png")
    side = int(MAX_PIXELS ** 0.5) + 1
    (tmp_path / "just_over.png").write_bytes(bomb_png(side, side))
    with pytest.raises(ImageReadError, match="more than"):
        image_size(tmp_path / "just_over.png")


@pytest.mark.parametrize("content, problem", [
    (b"", "empty file"),
    (b"not an image at all", "not an image file"),
    (None, "truncated or corrupt"),
])
def test_broken_files_give_one_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "broken.png"
    if content is None:
        Image.fromarray(RNG.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(path)
        content = path.read_bytes()[:-200]  # truncated inside the pixel data
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=rf"broken\.png: .*{problem}"):
        read_rgb(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="missing.png: cannot be read"):
        read_rgb(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match=f"{tmp_path.name}: cannot be"):
        read_rgb(Path(tmp_path))
