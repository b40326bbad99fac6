"""The project's one image-file reader: any file name, any sample layout, 8-bit RGB out, bombs refused.

Every image the project reads (training crops, frames to anonymize, evaluation inputs, LPIPS/FID inputs) goes
through :func:`read_rgb`, so every command sees the same pixels for the same file:

- **By bytes.** The file is read with ``np.fromfile`` and decoded with ``cv2.imdecode``: OpenCV never sees the
  file name, so names that are not valid UTF-8 (e.g. a Latin-1 "münchen" on a UTF-8 system) work like any other.
- **Header first.** The size is taken from the header (PIL, nothing decoded) and an image of more than
  ``MAX_PIXELS`` pixels is refused before any pixel buffer is allocated (a decompression bomb: a few bytes
  declaring a gigapixel image).
- **Every layout to 8-bit RGB.** ``IMREAD_UNCHANGED`` keeps the stored bit depth and channels, then: grey → three
  equal channels; 16-bit → ``rint(v / 257)`` (65535 → 255; reading a 16-bit file as 8-bit data would make it
  nearly all white); float → ``rint(255·clip(v, 0, 1))``; alpha is dropped (the colour channels are kept as
  stored, not composited onto a background); palettes are expanded and CMYK converted by the decoder.
- **The stored pixel grid.** EXIF orientation is not applied: boxes in annotation files and crops refer to the
  pixels as stored.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# 2**27 = 134 M pixels (e.g. 16384 x 8192; 403 MB as 8-bit RGB); a Cityscapes frame has 2 M.
MAX_PIXELS = 1 << 27


class ImageReadError(ValueError):
    """An image file that cannot be used; the message starts with the file name."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def _header_size(handle, path: str | Path, verify: bool) -> tuple[int, int]:
    """(width, height) from the header of an open binary file; refuses more than MAX_PIXELS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(handle) as image:
                size = image.size
                if verify:
                    _verify(image, path)
    except ImageReadError:
        raise
    except Image.DecompressionBombError:
        raise ImageReadError(path, f"declares more than {MAX_PIXELS:,} pixels (decompression bomb?)") from None
    except Image.UnidentifiedImageError:
        raise ImageReadError(path, "not an image file (unknown format or corrupt header)") from None
    except Exception as error:  # noqa: BLE001 - PIL raises many types for broken headers; all mean "not an image"
        raise ImageReadError(path, f"not a readable image ({type(error).__name__}: {error})") from None
    if size[0] * size[1] > MAX_PIXELS:
        raise ImageReadError(path, f"declares {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels, more than the "
                                   f"{MAX_PIXELS:,} this project reads (decompression bomb?)")
    return size


def _verify(image: Image.Image, path: str | Path) -> None:
    """PIL's structural check without decoding (PNG: every chunk present, checksums right)."""
    try:
        image.verify()
    except Exception as error:  # noqa: BLE001 - SyntaxError, OSError, struct.error ... all mean "broken file"
        raise ImageReadError(path, f"cannot be decoded (truncated or corrupt: {error})") from None


def image_size(path: str | Path, verify: bool = False) -> tuple[int, int]:
    """(width, height) of an image file from its header, without decoding it (``verify``: also check the file's
    structure and checksums as far as PIL can without decoding)."""
    try:
        with open(path, "rb") as handle:
            return _header_size(handle, path, verify)
    except OSError as error:
        raise ImageReadError(path, f"cannot be opened ({error.strerror or error})") from None


def to_rgb8(decoded: np.ndarray, path: str | Path) -> np.ndarray:
    """An ``IMREAD_UNCHANGED`` array (H×W, or H×W×C in OpenCV's BGR/BGRA order; uint8, uint16 or float) →
    H×W×3 uint8 RGB (the rules in the module docstring)."""
    if decoded.dtype == np.uint16:
        decoded = np.rint(decoded / 257.0).astype(np.uint8)
    elif decoded.dtype in (np.float32, np.float64):
        decoded = np.rint(np.clip(np.nan_to_num(decoded), 0.0, 1.0) * 255.0).astype(np.uint8)
    elif decoded.dtype != np.uint8:
        raise ImageReadError(path, f"unsupported sample type {decoded.dtype} (8-bit, 16-bit or float images only)")
    if decoded.ndim == 2:
        decoded = decoded[:, :, None]
    channels = decoded.shape[2]
    if channels in (1, 2):  # grey (with alpha)
        return np.ascontiguousarray(np.repeat(decoded[:, :, :1], 3, axis=2))
    if channels in (3, 4):  # BGR (with alpha)
        return np.ascontiguousarray(decoded[:, :, 2::-1])
    raise ImageReadError(path, f"unsupported channel count {channels}")


def read_rgb(path: str | Path) -> np.ndarray:
    """The image file as H×W×3 uint8 RGB; raises ImageReadError (naming the file) for anything unusable."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ImageReadError(path, f"cannot be read ({error.strerror or error})") from None
    if data.size == 0:
        raise ImageReadError(path, "empty file")
    # verify: PNG chunk checksums and completeness, so a truncated file is refused here, before libpng would
    # print its own complaint to stderr.
    size = _header_size(io.BytesIO(data.tobytes()), path, verify=True)
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # the error below says it in one line
    try:
        decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise ImageReadError(path, f"cannot be decoded ({str(error).strip().splitlines()[-1]})") from None
    finally:
        cv2.utils.logging.setLogLevel(level)
    if decoded is None:
        raise ImageReadError(path, "cannot be decoded (truncated or corrupt)")
    if decoded.shape[1::-1] != size:
        raise ImageReadError(path, f"decodes to {decoded.shape[1]}x{decoded.shape[0]} pixels but its header "
                                   f"says {size[0]}x{size[1]}")
    return to_rgb8(decoded, path)
