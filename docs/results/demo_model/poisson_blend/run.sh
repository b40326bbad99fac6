#!/usr/bin/env bash
# The GAN rows of one model with --poisson_blend: MODEL (an export of scripts/export_model.py), OUT. The 48
# held-out frames of seed 1502, sampling seeds 0/1, --redraws 2 and the feather the model file records, evaluated
# as scripts/demo_model_evidence.sh evaluates.
#   MODEL=repro_psgan.pth OUT=pilot bash docs/results/demo_model/poisson_blend/run.sh
# HELDOUT: the frames (made here with make_demo_data --frames 48 --seed 1502 when the folder has none).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
held_out=${HELDOUT:-demo_model_work/heldout48_seed1502}
[[ -f "$held_out/identities.json" ]] || "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$held_out" --frames 48 \
    --seed 1502 --quiet
date -u +"start %H:%M:%S"
for seed in 0 1; do
    [[ -f "$OUT/gan_seed$seed/report.json" ]] || "$AGAN_PYTHON" anonymize.py -i "$held_out/leftImg8bit" \
        -a "$held_out/gtBboxCityPersons" -o "$OUT/gan_seed$seed" --method gan --model_file "$MODEL" --redraws 2 \
        --poisson_blend --labels pedestrian --seed "$seed" --quiet
done
"$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$OUT/gan_seed0" --second_sample "$OUT/gan_seed1" \
    --original_frames "$held_out/leftImg8bit" --annotations "$held_out/gtBboxCityPersons" --out "$OUT/eval" --quiet
date -u +"end %H:%M:%S"
