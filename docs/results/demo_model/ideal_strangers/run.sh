#!/usr/bin/env bash
# The ideal-stranger oracle on the three 48-frame held-out sets (seeds 1502, 1503, 1504), from the repository
# root: ORIGINALS_1502=... ORIGINALS_1503=... ORIGINALS_1504=... OUT=<folder> bash docs/results/demo_model/ideal_strangers/run.sh
# where ORIGINALS_S is a folder of that seed's frames as scripts/demo_model_evidence.sh makes them (its
# WORK_DIR/heldout, FRAMES=48). Each set: render the frames again with strangers, then score them against the
# originals and their boxes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
out="${OUT:?set OUT to a folder for the rendered frames and evaluations}"
for seed in 1502 1503 1504; do
    originals_var="ORIGINALS_$seed"
    originals="${!originals_var:?set $originals_var to the held-out frames of seed $seed}"
    if [[ ! -f "$out/$seed/eval/metrics.json" ]]; then
        "$AGAN_PYTHON" docs/results/demo_model/ideal_strangers/render_ideal_strangers.py --out "$out/$seed/frames" \
            --frames 48 --seed "$seed" --originals "$originals"
        "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$out/$seed/frames/leftImg8bit" \
            --original_frames "$originals/leftImg8bit" --annotations "$originals/gtBboxCityPersons" \
            --out "$out/$seed/eval" --quiet
    fi
done
