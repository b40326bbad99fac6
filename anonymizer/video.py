"""Videos in, videos out, with PyAV (``av``, which bundles FFmpeg and an H.264 encoder).

Every decoded frame of the first video stream in [``--start``, ``--end``) seconds is anonymized and encoded as
H.264 (``--crf``, yuv420p; yuv444p when a side is odd) with its own timestamp, so the output has the input's
frame count, frame rate (also variable rates) and size; timestamps are shifted so the output starts at 0. Audio
streams are copied packet by packet (no re-encoding) for the same time range. The file is written under a
temporary name and renamed when complete, so an existing output is always whole (and is skipped on a rerun).

Fail closed: a frame that cannot be anonymized (detector or generator failure, a failed final check) is written
as a uniform grey frame — never the original — and reported; the frame count stays right.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from util.fileio import atomic_write
from util.progress import progress_bar

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".m4v", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts")
# Containers we write H.264 into; other inputs get an .mp4 output.
OUTPUT_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
FAILED_FRAME_VALUE = 128
DEFAULT_CRF = 18

ProcessFrame = Callable[[np.ndarray, int], tuple[np.ndarray, dict]]


class VideoError(Exception):
    """A video that cannot be read or written; the message says what is wrong (the caller names the file)."""


def ffmpeg_problem(error: Exception) -> str:
    """FFmpeg's own words for an error, without the file name it repeats."""
    return getattr(error, "strerror", None) or str(error)


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def output_name(relative: Path) -> Path:
    """The output file for an input video: same name, an H.264 container (its own when it is one)."""
    return relative if relative.suffix.lower() in OUTPUT_FORMATS else relative.with_suffix(".mp4")


def probe(path: Path) -> dict:
    """Frame count (decoded), frame rate, size and audio streams of a video: what a round trip must keep."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            return {"frames": frames, "fps": float(stream.average_rate or 0), "width": stream.width,
                    "height": stream.height, "audio_streams": len(container.streams.audio)}
    except (av.FFmpegError, IndexError) as error:
        raise VideoError(f"cannot be read as a video ({ffmpeg_problem(error)})") from None


class _Range:
    def __init__(self, start: float | None, end: float | None) -> None:
        self.start = start or 0.0
        self.end = end

    def before(self, seconds: float) -> bool:
        return seconds < self.start - 1e-9

    def after(self, seconds: float) -> bool:
        return self.end is not None and seconds >= self.end - 1e-9


def anonymize_video(source: Path, target: Path, process: ProcessFrame, failures: tuple[type[Exception], ...],
                    start: float | None = None, end: float | None = None, crf: int = DEFAULT_CRF,
                    quiet: bool = False) -> dict:
    """Write the anonymized ``source`` to ``target``; returns the report entry (one record per frame)."""
    import av

    try:
        src = av.open(str(source))
    except av.FFmpegError as error:
        raise VideoError(f"cannot be opened as a video ({ffmpeg_problem(error)})") from None
    with src:
        if not src.streams.video:
            raise VideoError("has no video stream")
        video = src.streams.video[0]
        video.thread_type = "AUTO"
        audio = list(src.streams.audio)
        rate = video.average_rate or video.guessed_rate or Fraction(25)
        time_range = _Range(start, end)
        frames: list[dict] = []
        began = time.perf_counter()
        total = int(video.frames) if video.frames else None
        bar = progress_bar(iter(()), total=total, desc=source.name, quiet=quiet, unit="frame")

        def write(tmp: Path) -> None:
            with av.open(str(tmp), "w", format=OUTPUT_FORMATS[target.suffix.lower()]) as dst:
                encoder = dst.add_stream("libx264", rate=rate)
                encoder.width, encoder.height = video.width, video.height
                even = video.width % 2 == 0 and video.height % 2 == 0
                encoder.pix_fmt = "yuv420p" if even else "yuv444p"
                encoder.codec_context.time_base = video.time_base
                encoder.time_base = video.time_base
                encoder.options = {"crf": str(crf), "preset": "medium"}
                copies = {a.index: dst.add_stream_from_template(a) for a in audio}
                _transcode(src, dst, video, encoder, copies, process, failures, time_range, frames, bar)

        try:
            atomic_write(target, write)
        except av.FFmpegError as error:
            raise VideoError(f"video processing failed ({ffmpeg_problem(error)})") from None
        finally:
            bar.close()
    seconds = time.perf_counter() - began
    failed = sum(f.get("status") == "failed" for f in frames)
    return {"frames": frames, "frames_written": len(frames), "frames_failed": failed, "fps": float(rate),
            "size": [video.width, video.height], "audio_streams_copied": len(audio),
            "processing_fps": round(len(frames) / seconds, 3) if seconds > 0 else None}


def _transcode(src, dst, video, encoder, copies: dict, process: ProcessFrame, failures: tuple[type[Exception], ...],
               time_range: _Range, frames: list[dict], bar) -> None:
    import av

    index = -1
    offset = None  # the first kept frame's time: subtracted from every kept timestamp
    for packet in src.demux(video, *[s for s in src.streams.audio if s.index in copies]):
        if packet.stream.type == "audio":
            if packet.pts is None or offset is None:
                continue  # audio before the first kept video frame is dropped with the range
            seconds = float(packet.pts * packet.time_base)
            if time_range.before(seconds) or time_range.after(seconds):
                continue
            shift = int(round(offset / packet.time_base))
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = copies[packet.stream.index]
            dst.mux(packet)
            continue
        for frame in packet.decode():
            index += 1
            seconds = float(frame.time) if frame.time is not None else index / float(encoder.rate)
            if time_range.before(seconds) or time_range.after(seconds):
                continue
            if offset is None:
                offset = Fraction(frame.pts or 0) * video.time_base
            pixels, entry = _process_safely(frame.to_ndarray(format="rgb24"), index, process, failures)
            out = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            pts = frame.pts if frame.pts is not None else int(round(index / (encoder.rate * video.time_base)))
            out.pts = pts - int(round(offset / video.time_base))
            out.time_base = video.time_base
            for encoded in encoder.encode(out):
                dst.mux(encoded)
            entry["frame"] = index
            frames.append(entry)
            bar.update(1)
    for encoded in encoder.encode(None):
        dst.mux(encoded)


def _process_safely(image: np.ndarray, index: int, process: ProcessFrame,
                    failures: tuple[type[Exception], ...]) -> tuple[np.ndarray, dict]:
    try:
        result, entry = process(image, index)
        entry["status"] = "written"
        return result, entry
    except failures as error:
        return (np.full_like(image, FAILED_FRAME_VALUE),
                {"status": "failed", "error": f"{error}; written as a grey frame"})
