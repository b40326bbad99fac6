"""Export a trained run's generator as a shipped model file (``<stem>.pth`` + ``<stem>.json``)::

    python scripts/export_model.py checkpoints/demo_people64 --epoch best --out models/shipped/demo_psgan.pth

The moving-average generator is exported when the run kept one (``--ema_decay``); weights are stored in fp16
unless ``--fp32``. ``--network_mode eval`` records that the file runs with BatchNorm's running statistics and no
dropout by default (the shipped demo model: it was measured better so, models/shipped/MODEL_CARD.md); the default
``train`` is the original's test-time mode. ``anonymize.py --model_file OUT`` and ``models.load_model(OUT)`` load
the result in that mode unless told otherwise. ``--blend_px N`` records the box-edge feather the file was measured
with, which ``anonymize.py --model_file OUT`` then pastes with unless given its own ``--blend_px`` (the shipped demo
model: 4).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.silhouettes import SilhouetteError  # noqa: E402
from models import CheckpointError  # noqa: E402
from models.loading import NETWORK_MODES, export_model_file  # noqa: E402
from options import OptionsError  # noqa: E402
from util.cli import number, os_error_text  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/export_model.py", description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder <checkpoints_dir>/<name>")
    parser.add_argument("--epoch", default="best", help="checkpoint prefix (%(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="model file to write (<stem>.pth)")
    parser.add_argument("--fp32", action="store_true", help="keep fp32 weights (default: fp16, half the size)")
    parser.add_argument("--network_mode", choices=NETWORK_MODES, default="train",
                        help="the test-time mode the file runs in by default: train (per-image BatchNorm "
                             "statistics, dropout on; the original's) or eval (running statistics, no dropout); "
                             "default %(default)s")
    parser.add_argument("--blend_px", type=number(int, minimum=0), default=0,
                        help="the feather (pixels inside the box edge) anonymize.py pastes this file's boxes with "
                             "by default; default %(default)s, a hard paste")
    args = parser.parse_args(argv)
    if args.out.suffix != ".pth":
        parser.error(f"--out {args.out}: a model file ends in .pth")
    try:
        out = export_model_file(args.run, args.epoch, args.out, half=not args.fp32, network_mode=args.network_mode,
                                blend_px=args.blend_px)
    except (OptionsError, CheckpointError, SilhouetteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an --out that cannot be written
        print(f"error: {os_error_text(error)}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
