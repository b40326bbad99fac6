#!/usr/bin/env bash
# What the model's resolution costs, from the repository root (README.md here):
#   ANONYMIZED=<anonymize.py output of the GAN, sampling seed 0> ORIGINALS=<the held-out frames> OUT=<folder> \
#       bash docs/results/demo_model/resolution_floor/run.sh
# ORIGINALS is a held-out set as scripts/demo_model_evidence.sh makes it (its WORK_DIR/heldout), ANONYMIZED that
# script's WORK_DIR/anonymized/gan_seed0. Each row: round_trip.py rewrites the painted boxes, evaluation.evaluate
# scores the frames against the originals (person and frame FID, re-ID), the metrics go to evaluations/<row>.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
anonymized="${ANONYMIZED:?set ANONYMIZED to the GAN output folder of sampling seed 0}"
originals="${ORIGINALS:?set ORIGINALS to the held-out frames}"
out="${OUT:?set OUT to a work folder}"
here=docs/results/demo_model/resolution_floor
mkdir -p "$here/evaluations"
# name:mode:model side
for row in roundtrip:roundtrip:64 roundtrip_96:roundtrip:96 roundtrip_128:roundtrip:128 \
        roundtrip_sharpen:roundtrip_sharpen:64 grain:grain:64 sharpen:sharpen:64; do
    IFS=: read -r name mode side <<< "$row"
    if [[ ! -f "$out/$name/eval/metrics.json" ]]; then
        "$AGAN_PYTHON" "$here/round_trip.py" --anonymized "$anonymized" --out "$out/$name/frames" --mode "$mode" \
            --model_side "$side"
        "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$out/$name/frames" \
            --original_frames "$originals/leftImg8bit" --annotations "$originals/gtBboxCityPersons" \
            --out "$out/$name/eval" --quiet
    fi
    cp "$out/$name/eval/metrics.json" "$here/evaluations/$name.json"
done
