"""Anonymize one frame: order, batching, generation, paste-back, fallbacks and the final check.

Order and batching. People are processed in ascending box area (ties: annotation order), so later, larger windows
see already-anonymized neighbours. Each person *reads* a region (its generator window, or for a
traditional method just its box) and *writes* its box. The result must equal strictly sequential processing, so
people are grouped into waves: person j goes into the wave after every earlier person whose box its window reads
(it must see their result), and no earlier than any earlier person whose window reads j's box (they must see j's
original). A wave is run as: cut all its windows, apply its traditional boxes, then generate its windows in batches
of ``--batch_size`` and paste them in order. Within a wave no one reads what another writes (overlapping boxes
imply a read, since a box lies inside its window), so the order of pastes cannot matter and every window sees
exactly what it would see sequentially; only the random stream is shared per batch (seeded from the frame and the
batch's first person, so reruns are identical; a different ``--batch_size`` changes the noise draws).

Fail closed. A person whose window cannot be built, whose generator call raises, whose output is not finite or
not a crop of the model's size, or whose paste fails the leakage check (``verify``) gets the fallback method
(recorded with the reason), except that a rejected whole box is first painted again up to ``Settings.redraws``
times (``--redraws``: each time a new stranger's silhouette and a new batch seed; the rejections are recorded as
``redrawn``); a traditional method whose box fails the check is replaced by the fallback, and a
fallback that fails it by full-range uniform noise (``LAST_RESORT``, which shares nothing with the original). A
paste fails the check when its own box leaks, or when it leaves an overlapping box replaced before it leaking.
The frame is returned only when ``verify.frame_problems`` is empty; otherwise ``FrameError`` — the caller writes
nothing.

Person shapes. With the frame's person map (``anonymize.py --instance_ids``: Cityscapes gtFine instance ids) a
person is replaced in its own shape: the map's person pixels in its box, grown, are the only pixels written; the
rest of the box keeps the original background. For the GAN they are the generator's hole, grown by
``data.holes.HOLE_DILATION`` model pixels; a traditional ``--method`` replaces them grown by ``SHAPE_GROW_PX`` frame
pixels (what the shipped 64 px model grows at its training scale), so both replace comparable pixels. The check
then covers the hole (written, no leakage there). A box with no person pixel in the map, and every fallback,
replace the whole box; a person whose shape is rejected by the check gets its whole box replaced by the same method
(recorded as ``shape_rejected``) before any fallback.

Feathering. ``--blend_px`` mixes the original into the box's border pixels, so it is bounded per box: at most
``1 / BLEND_FRACTION`` of the box's shorter side (a larger feather left the person recognizable: detail
correlation 0.8–1.0 at half the box), and the leakage check measures what remains.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import cv2
import numpy as np

from data.boxes import Box, boxes_overlap, clip_box, is_empty
from data.holes import HOLE_DILATION, person_hole

from . import geometry, verify
from .annotations import Person
from .generator import Window, WindowGenerator
from .methods import anonymize_region
from .poisson import poisson_blend

LAST_RESORT = ("noise", 1.0)  # method and strength when even the fallback leaks
BLEND_FRACTION = 16  # the feather may cover at most 1/16 of the box's shorter side
# Frame pixels a traditional method's person shape grows by: what the shipped 64 px model's hole grows at its
# training scale (HOLE_DILATION model pixel of a 228-pixel window: ceil(228 / 64) = 4), so that blur or pixelation
# in shapes replaces the pixels the GAN in shapes does.
SHAPE_GROW_PX = 4
TRACK_STREAM = 2**32  # above any crc32 frame number: track seeds never collide with per-frame ones


class FrameError(Exception):
    """The frame cannot be anonymized completely; nothing may be written for it."""


@dataclass(frozen=True)
class Settings:
    method: str = "gan"  # "gan" or a traditional method
    strengths: dict[str, float] = field(default_factory=dict)  # per traditional method; missing = default
    fallback: str = "pixelate"
    blend_px: int = 0
    batch_size: int = 8
    margin: int | None = None  # None: geometry.default_margin(crop_size)
    window_side: int | None = None  # frame pixels per model window; None: the generator's training scale
    seed: int = 0
    redraws: int = 0  # GAN repaints of a whole box the leakage check rejected, before the fallback
    poisson_blend: bool = False  # meet the real street at the painted region's edge (anonymizer.poisson)


@dataclass
class Task:
    index: int  # in the frame's annotation
    person: Person
    region: Box  # the box clipped to the frame
    rng: np.random.Generator
    placement: geometry.Placement | None = None
    window: Window | None = None
    seconds: float = 0.0
    record: dict = field(default_factory=dict)
    hole: np.ndarray | None = None  # region-sized bool: the person's shape to paint (data.holes); None: the box
    replaced: np.ndarray | None = None  # what the final check requires replaced: the hole once painted, else the box
    draw: int = 0  # how many rejected whole-box paintings came before this one (Settings.redraws)

    @property
    def reads(self) -> Box:
        return self.placement.window if self.placement and self.placement.path != "fallback" else self.region


def frame_seed(relative_path: str) -> int:
    """A stable per-frame number from the frame's relative path (crc32: unlike hash(), the same in every run)."""
    # surrogateescape: a file name that is not valid UTF-8 hashes as its bytes on disk (valid names: unchanged)
    return zlib.crc32(relative_path.encode("utf-8", "surrogateescape"))


def batch_seed(seed: int, frame: int, first_index: int, draw: int = 0) -> int:
    """The torch seed of one generator batch; ``draw`` > 0 for a repaint of rejected boxes (the first draw keeps
    the seeds of runs made before repaints existed)."""
    entropy = [seed, frame, first_index, 1] + ([draw] if draw else [])
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] % 2**63)


def person_seed(seed: int, frame: int, index: int, identity: int | None) -> list[int]:
    """A person's random stream: per frame and index, or per track (one look for one person over a video)."""
    return [seed, frame, index] if identity is None else [seed, TRACK_STREAM, identity]


def bounded_blend(height: int, width: int, blend_px: int) -> int:
    """The feather width used for a height × width box: ``blend_px``, at most 1/BLEND_FRACTION of the shorter
    side."""
    return min(blend_px, min(height, width) // BLEND_FRACTION)


def blend_alpha(height: int, width: int, blend_px: int) -> np.ndarray | None:
    """H×W×1 weight of the new content: 1 in the interior, ramping to 1/(n+1) on the box's own border pixels, with
    n the bounded feather (``bounded_blend``), so every box pixel takes some new content (the margin lies inside
    the box, never outside)."""
    blend_px = bounded_blend(height, width, blend_px)
    if blend_px <= 0:
        return None
    rows = np.minimum(np.arange(height), np.arange(height)[::-1])
    cols = np.minimum(np.arange(width), np.arange(width)[::-1])
    depth = np.minimum(rows[:, None], cols[None, :])
    return np.minimum((depth + 1.0) / (blend_px + 1.0), 1.0)[..., None].astype(np.float32)


class FrameAnonymizer:
    """One frame's state: the original, the output being built and the provenance mask."""

    def __init__(self, image: np.ndarray, settings: Settings, generator: WindowGenerator | None,
                 frame: int, person_map: np.ndarray | None = None) -> None:
        self.original = image
        self.person_map = person_map  # H×W bool person pixels (gtFine instance ids): GAN persons in their shape
        self.out = image.copy()
        self.written = np.zeros(image.shape[:2], dtype=bool)
        self.done: list[tuple[Box, np.ndarray | None]] = []  # the boxes replaced so far, in order, with holes
        self.settings = settings
        self.generator = generator
        self.frame = frame
        if settings.method == "gan" and generator is None:
            raise ValueError("method gan needs a generator")
        self.crop_size = generator.crop_size if generator else 0
        self.margin = settings.margin if settings.margin is not None else geometry.default_margin(self.crop_size)
        self.window_side = settings.window_side or (generator.window_side if generator else None)
        # For people that must get a traditional method: --method when it is one, else --fallback.
        self.traditional_method = settings.fallback if settings.method == "gan" else settings.method

    # -- the whole frame -------------------------------------------------------------------------------------
    def run(self, persons: list[tuple[int, Person]]) -> tuple[np.ndarray, list[dict]]:
        height, width = self.original.shape[:2]
        tasks, records = [], []
        for index, person in persons:
            region = clip_box(person.box, width, height)
            record = {"index": index, "label": person.label, "box": list(person.box)}
            if person.crowd:
                record["crowd"] = True
            records.append(record)
            if is_empty(region):  # a selected person that cannot be processed: the frame must not be written
                raise FrameError(f"person {index} ({person.label}) box {list(person.box)} lies entirely outside "
                                 f"the {width}x{height} frame (annotations made for another frame size?)")
            record["box_in_frame"] = list(region)
            if self.settings.blend_px:
                record["blend_px"] = bounded_blend(region[3] - region[1], region[2] - region[0],
                                                   self.settings.blend_px)
            rng = np.random.default_rng(person_seed(self.settings.seed, self.frame, index, person.identity))
            tasks.append(Task(index, person, region, rng, record=record))
        tasks.sort(key=lambda t: ((t.region[2] - t.region[0]) * (t.region[3] - t.region[1]), t.index))
        for wave in self.waves(tasks):
            self.run_wave(wave)
        problems = verify.frame_problems(self.original, self.out, [t.region for t in tasks], self.written,
                                         [t.replaced for t in tasks])
        if problems:
            raise FrameError("; ".join(problems))
        return self.out, records

    def waves(self, tasks: list[Task]) -> list[list[Task]]:
        """Group the ordered tasks into waves (see the module docstring); each wave keeps the order."""
        height, width = self.original.shape[:2]
        levels: list[int] = []
        for j, task in enumerate(tasks):
            if self.settings.method == "gan" and task.person.forced is None:
                task.placement = geometry.place(task.region, width, height, self.crop_size, self.margin,
                                                self.window_side)
            level = 0
            for i in range(j):
                if boxes_overlap(task.reads, tasks[i].region):
                    level = max(level, levels[i] + 1)  # j reads i's result
                elif boxes_overlap(tasks[i].reads, task.region):
                    level = max(level, levels[i])  # i reads j's original: j may not run before i
            levels.append(level)
        grouped: list[list[Task]] = [[] for _ in range(max(levels, default=-1) + 1)]
        for task, level in zip(tasks, levels, strict=True):
            grouped[level].append(task)
        return grouped

    def run_wave(self, wave: list[Task]) -> None:
        generated = [t for t in wave if t.placement is not None and t.placement.path != "fallback"]
        for task in generated:  # cut before any paste of this wave
            start = time.perf_counter()
            task.window = self.cut_window(task)
            task.seconds += time.perf_counter() - start
        for task in wave:
            if task in generated:
                continue
            start = time.perf_counter()
            if task.person.forced is not None:
                self.traditional(task, self.traditional_method, task.person.forced)
            elif task.placement is None:
                self.traditional(task, self.settings.method, None, in_shape=True)
            else:
                self.traditional(task, self.settings.fallback, task.placement.reason)
            task.seconds += time.perf_counter() - start
            task.record["seconds"] = round(task.seconds, 4)
        size = self.settings.batch_size
        for first in range(0, len(generated), size):
            self.generate(generated[first:first + size])

    # -- GAN ---------------------------------------------------------------------------------------------------
    def cut_window(self, task: Task) -> Window:
        x1, y1, x2, y2 = task.placement.window
        pixels = self.out[y1:y2, x1:x2]
        if x2 - x1 != self.crop_size:
            interpolation = cv2.INTER_AREA if x2 - x1 > self.crop_size else cv2.INTER_CUBIC  # antialiased down
            pixels = cv2.resize(pixels, (self.crop_size, self.crop_size), interpolation=interpolation)
        side = task.placement.window[2] - task.placement.window[0]
        task.hole = self.person_hole(task, int(np.ceil(HOLE_DILATION * side / self.crop_size)))
        return Window(np.array(pixels, copy=True), task.placement.local_box, task.rng, self.window_hole(task))

    def person_hole(self, task: Task, grow: int) -> np.ndarray | None:
        """The person's own shape in its box (frame pixels; data.holes, grown by ``grow`` frame pixels), or None
        to replace the whole box: no person map, or no person pixel in the box."""
        if self.person_map is None:
            return None
        x1, y1, x2, y2 = task.region
        height, width = self.person_map.shape
        u1, v1, u2, v2 = max(x1 - grow, 0), max(y1 - grow, 0), min(x2 + grow, width), min(y2 + grow, height)
        hole = person_hole(self.person_map[v1:v2, u1:u2], (x1 - u1, y1 - v1, x2 - u1, y2 - v1), grow)
        hole = hole[y1 - v1:y2 - v1, x1 - u1:x2 - u1]
        return None if hole.all() else hole

    def window_hole(self, task: Task) -> np.ndarray | None:
        """The task's hole at model resolution: every model pixel that covers some hole pixel."""
        if task.hole is None:
            return None
        wx1, wy1, wx2, wy2 = task.placement.window
        x1, y1, x2, y2 = task.region
        hole = np.zeros((wy2 - wy1, wx2 - wx1), dtype=np.float32)
        hole[y1 - wy1:y2 - wy1, x1 - wx1:x2 - wx1] = task.hole
        if wx2 - wx1 != self.crop_size:
            hole = cv2.resize(hole, (self.crop_size, self.crop_size), interpolation=cv2.INTER_AREA)
        return hole > 0

    def generate(self, tasks: list[Task]) -> None:
        """Run one batch of windows and paste them back in order."""
        start = time.perf_counter()
        first = tasks[0]
        seed = (batch_seed(self.settings.seed, self.frame, first.index, first.draw) if first.person.identity is None
                else batch_seed(self.settings.seed, TRACK_STREAM, first.person.identity, first.draw))
        try:
            outputs = self.generator([t.window for t in tasks], seed)
            failures = [self.output_problem(output) for output in outputs]
            if len(outputs) != len(tasks):
                raise ValueError(f"{len(outputs)} outputs for {len(tasks)} windows")
        except Exception as error:  # noqa: BLE001 - any generator failure means: fall back, never leak
            outputs = [None] * len(tasks)
            failures = [f"generator error: {type(error).__name__}: {error}"] * len(tasks)
        share = (time.perf_counter() - start) / len(tasks)
        repaint = []  # painted next: a rejected shape as a whole box, a rejected whole box with a new draw
        for task, output, failure in zip(tasks, outputs, failures, strict=True):
            begin = time.perf_counter()
            if failure is not None:
                self.traditional(task, self.settings.fallback, failure)
            else:
                problem = self.paste_generated(task, output)
                if problem and self.paint_again(task, problem):
                    repaint.append(task)
            task.seconds += share + time.perf_counter() - begin
            task.record["seconds"] = round(task.seconds, 4)
        for task in repaint:
            # A whole box, drawn afresh: the generator draws the stranger's silhouette from a new child of the
            # person's stream, and the batch seed changes with the draw.
            task.window = Window(task.window.pixels, task.window.box, task.rng, None)
        for draw in sorted({task.draw for task in repaint}):
            self.generate([task for task in repaint if task.draw == draw])

    def output_problem(self, output: np.ndarray | None) -> str | None:
        """Why one generator output cannot be pasted (None: it is a finite crop × crop × 3 array)."""
        if output is None:
            return "non-finite generator output"
        expected = (self.crop_size, self.crop_size, 3)
        if not isinstance(output, np.ndarray):
            return f"generator output of type {type(output).__name__}, expected an array"
        if output.shape != expected:
            return f"generator output of shape {output.shape}, expected {expected}"
        if not np.isfinite(output).all():
            return "non-finite generator output"
        return None

    def paste_generated(self, task: Task, output: np.ndarray) -> str | None:
        """Paste one generator output; or, when the leakage check rejects it, leave the region as it was and
        return why (the caller repaints or falls back)."""
        placement = task.placement
        wx1, wy1, wx2, wy2 = placement.window
        x1, y1, x2, y2 = task.region
        side = wx2 - wx1
        problem = None
        if self.settings.poisson_blend:
            output = poisson_blend(output, task.window.pixels, self.painted_model_pixels(task.window))
        if side != self.crop_size:
            # Resampling to frame pixels smooths away the fine detail the leakage measure compares, so a near-copy
            # of the window could pass once resized: measure it at model resolution first, against its input.
            problem = self.model_pixel_problem(task, output)
            interpolation = cv2.INTER_CUBIC if side > self.crop_size else cv2.INTER_AREA
            output = cv2.resize(output, (side, side), interpolation=interpolation)
        if problem is None:
            values = output[y1 - wy1:y2 - wy1, x1 - wx1:x2 - wx1]
            if task.hole is not None:  # the background around the person stays as it is
                values = np.where(task.hole[..., None], values, self.out[y1:y2, x1:x2])
            problem = self.try_paste(task, values, task.hole)
        if problem:
            return problem
        task.record.update(method="gan", path=placement.path, window=list(placement.window))
        if task.hole is not None:
            task.record["painted_fraction"] = round(float(task.hole.mean()), 4)
        return None

    @staticmethod
    def painted_model_pixels(window: Window) -> np.ndarray:
        """crop × crop bool: the model pixels a window's paste replaces (its hole, else its box)."""
        if window.hole is not None:
            return window.hole
        painted = np.zeros(window.pixels.shape[:2], dtype=bool)
        lx1, ly1, lx2, ly2 = window.box
        painted[ly1:ly2, lx1:lx2] = True
        return painted

    def paint_again(self, task: Task, problem: str) -> bool:
        """After the leakage check rejected a painting: True if the GAN paints the person again — a rejected
        shape as its whole box (the same draw), a rejected whole box with a new draw while ``Settings.redraws``
        allows; otherwise the fallback replaces the box and False is returned."""
        if task.hole is not None:
            task.record["shape_rejected"] = {"problem": problem, "leakage": task.record.pop("leakage")}
            task.hole = None
            return True
        if task.draw < self.settings.redraws:
            task.record.setdefault("redrawn", []).append(problem)
            task.draw += 1
            return True
        generated = task.record["leakage"]
        self.traditional(task, self.settings.fallback, f"generated box rejected: {problem}")
        task.record["generated_leakage"] = generated  # what the rejected generator output kept
        return False

    # -- traditional methods and fallbacks -----------------------------------------------------------------------
    def traditional(self, task: Task, method: str, reason: str | None, in_shape: bool = False) -> None:
        """Replace the box by ``method``; if that leaks, by the fallback, then by LAST_RESORT (each recorded).
        ``in_shape``: first only the person's shape, when the frame's person map has one (module docstring)."""
        if in_shape and self.replace_shape(task, method):
            return
        fallback = self.settings.fallback
        attempts = [(method, self.settings.strengths.get(method))]
        if method != fallback:
            attempts.append((fallback, self.settings.strengths.get(fallback)))
        attempts.append(LAST_RESORT)
        x1, y1, x2, y2 = task.region
        for name, strength in attempts:
            values = anonymize_region(self.out[y1:y2, x1:x2], name, strength, task.rng)
            problem = self.try_paste(task, values)
            task.record.update(method=name, path="box")
            if reason is not None:
                task.record["fallback_reason"] = reason
            if problem is None:
                return
            reason = f"{name} rejected: {problem}"
        task.record["problem"] = problem  # the final check refuses the frame

    def replace_shape(self, task: Task, method: str) -> bool:
        """Replace the person's grown shape in its box by a traditional ``method`` and keep the rest of the box;
        False when there is no shape (no map, no person pixel) or the check rejects it (recorded as
        ``shape_rejected``), and the whole box is then to be replaced."""
        hole = self.person_hole(task, SHAPE_GROW_PX)
        if hole is None:
            return False
        x1, y1, x2, y2 = task.region
        box = self.out[y1:y2, x1:x2]
        values = anonymize_region(box, method, self.settings.strengths.get(method), task.rng)
        problem = self.try_paste(task, np.where(hole[..., None], values, box), hole)
        if problem:
            task.record["shape_rejected"] = {"problem": problem, "leakage": task.record.pop("leakage")}
            return False
        task.record.update(method=method, path="shape", painted_fraction=round(float(hole.mean()), 4))
        return True

    @staticmethod
    def model_pixel_problem(task: Task, output: np.ndarray) -> str | None:
        """The leakage of the generated box against the window it was made from, both in model pixels."""
        lx1, ly1, lx2, ly2 = task.placement.local_box
        generated = np.clip(np.rint(output[ly1:ly2, lx1:lx2]), 0, 255).astype(np.uint8)
        hole = None if task.window.hole is None else task.window.hole[ly1:ly2, lx1:lx2]
        leakage = verify.measure(task.window.pixels[ly1:ly2, lx1:lx2], generated, hole)
        task.record["leakage"] = leakage.as_record()
        problem = leakage.problem()
        return f"{problem} (in model pixels)" if problem else None

    def try_paste(self, task: Task, values: np.ndarray, hole: np.ndarray | None = None) -> str | None:
        """Paste ``values`` into the task's box (written: its ``hole``, or all of it) and measure the leakage
        there; on a problem the box is restored and the problem returned (the box then stays unwritten by this
        attempt)."""
        x1, y1, x2, y2 = task.region
        previous, previous_written = self.out[y1:y2, x1:x2].copy(), self.written[y1:y2, x1:x2].copy()
        self.paste(task.region, values, hole)
        leakage = verify.measure(self.original[y1:y2, x1:x2], self.out[y1:y2, x1:x2], hole)
        task.record["leakage"] = leakage.as_record()
        problem = leakage.problem() or self.spoiled_box(task.region)
        if problem:
            self.out[y1:y2, x1:x2], self.written[y1:y2, x1:x2] = previous, previous_written
        else:
            self.done.append((task.region, hole))
            task.replaced = hole
        return problem

    def spoiled_box(self, region: Box) -> str | None:
        """Why a paste into ``region`` makes an overlapping box that was finished earlier fail the check (its
        pixels are re-measured as the final check will), or None. Without this, a paste that passes alone could
        leave a smaller neighbour's box a few smooth pixels whose detail happens to correlate with the original,
        and the whole frame would be refused."""
        for other, hole in self.done:
            if boxes_overlap(other, region):
                u1, v1, u2, v2 = other
                problem = verify.box_problem(self.original[v1:v2, u1:u2], self.out[v1:v2, u1:u2], hole)
                if problem:
                    return f"it leaves the overlapping box {list(other)} failing the check ({problem})"
        return None

    def paste(self, region: Box, values: np.ndarray, hole: np.ndarray | None = None) -> None:
        """Write ``values`` into the region (feathered per --blend_px); mark its ``hole`` written, or all of it."""
        x1, y1, x2, y2 = region
        alpha = blend_alpha(y2 - y1, x2 - x1, self.settings.blend_px)
        if alpha is not None:
            values = alpha * values.astype(np.float32) + (1.0 - alpha) * self.out[y1:y2, x1:x2].astype(np.float32)
        if values.dtype != np.uint8:
            values = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        self.out[y1:y2, x1:x2] = values
        if hole is None:
            self.written[y1:y2, x1:x2] = True
        else:
            self.written[y1:y2, x1:x2] |= hole


def anonymize_frame(image: np.ndarray, persons: list[tuple[int, Person]], settings: Settings,
                    generator: WindowGenerator | None, relative_path: str,
                    person_map: np.ndarray | None = None) -> tuple[np.ndarray, list[dict]]:
    """The anonymized copy of ``image`` (H×W×3 uint8 RGB) and one record per person; raises FrameError. With
    ``person_map`` (H×W bool, the frame's person pixels) the GAN paints each person in its own shape and keeps
    the background of its box."""
    return FrameAnonymizer(image, settings, generator, frame_seed(relative_path), person_map).run(persons)
