#!/usr/bin/env bash
# The ideal-strangers oracle on the held-out sets of the evidence: 48 frames of seeds 1502, 1503 and 1504, and the
# 12 frames of seed 1502. From the repository root:
#   ORIGINALS_1502=... ORIGINALS_1503=... ORIGINALS_1504=... ORIGINALS_1502_12=... OUT=<folder> \
#       bash docs/results/demo_model/ideal_strangers/run.sh
# where each ORIGINALS folder holds that set's frames as scripts/demo_model_evidence.sh makes them (its
# WORK_DIR/heldout with HELDOUT_SEED and FRAMES). Each set: render the frames again with strangers (printing how far
# the boxes moved), then score them against the originals and their boxes; then set 1502 and its 12 frames again
# with strangers in the originals' colours (--keep_palette). Finished sets are kept. Last, the picture
# persons.png: the 16 persons of the 12 frames that the README's picture shows, original, ideal stranger, the
# stranger in the original's colours and the shipped model (seed 0, its defaults).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
out="${OUT:?set OUT to a folder for the rendered frames and evaluations}"
# render_and_score SET DIR [--keep_palette]: SET's frames rendered again with strangers into $out/DIR/frames
# (printing how far the boxes moved) and scored against the originals into $out/DIR/eval, unless already scored.
render_and_score() {
    local set="$1" dir="$2" seed="${1%_12}" frames=48
    shift 2
    [[ "$set" == *_12 ]] && frames=12
    local originals_var="ORIGINALS_$set"
    local originals="${!originals_var:?set $originals_var to the held-out frames of seed $seed ($frames frames)}"
    if [[ ! -f "$out/$dir/eval/metrics.json" ]]; then
        "$AGAN_PYTHON" docs/results/demo_model/ideal_strangers/render_ideal_strangers.py --out "$out/$dir/frames" \
            --frames "$frames" --seed "$seed" --originals "$originals" "$@"
        "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$out/$dir/frames/leftImg8bit" \
            --original_frames "$originals/leftImg8bit" --annotations "$originals/gtBboxCityPersons" \
            --out "$out/$dir/eval" --quiet
    fi
}
for set in 1502 1503 1504 1502_12; do
    render_and_score "$set" "$set"
done
# The same strangers in the original persons' colours (rule_palette.md), on set 1502 and its 12 frames.
for set in 1502 1502_12; do
    render_and_score "$set" "palette_$set" --keep_palette
done
originals="$ORIGINALS_1502_12"
"$AGAN_PYTHON" anonymize.py -i "$originals/leftImg8bit" -a "$originals/gtBboxCityPersons" -o "$out/1502_12/gan_seed0" \
    --method gan --labels pedestrian --seed 0 --quiet
rows="ideal stranger=$out/1502_12/frames/leftImg8bit,in own colours=$out/palette_1502_12/frames/leftImg8bit"
"$AGAN_PYTHON" scripts/demo_model_report.py persons --original "$originals/leftImg8bit" \
    --annotations "$originals/gtBboxCityPersons" --out docs/results/demo_model/ideal_strangers/persons.png \
    --rows "$rows,GAN seed 0=$out/1502_12/gan_seed0"
