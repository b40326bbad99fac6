#!/usr/bin/env bash
# The confirmation measurements named by ../blend_exploration/rule_default.md (written before any of them): the
# seed-1501 inpainting generator (ngf 32, both stages) with anonymize.py --blend_px 4 --redraws 2, against the
# shipped U-Net with its defaults, pixelate and blur, on the 12 held-out frames of seed 1502 and on a fresh set of
# 48 frames of seed 1504. Whole boxes, sampling seeds 0/1, measured by evaluation.evaluate as
# scripts/demo_model_evidence.sh measures (that script makes the frames and the rows of the other three). Run from
# the repository root with the candidate's export in ./demo_model_work (inpaint_second_stage/, made by
# scripts/measure_demo_candidate.sh). Every step resumes.
set -euo pipefail
source scripts/setup.sh
export OMP_NUM_THREADS="${THREADS:-2}"
work=./demo_model_work/default_confirmation
candidate=demo_model_work/inpaint_second_stage/demo_psgan_inpaint_second.pth
sha256sum "$candidate" models/shipped/demo_psgan.pth
for frame_set in seed1504:48:1504 seed1502:12:1502; do
    IFS=: read -r name frames heldout_seed <<< "$frame_set"
    date -u +"$name: shipped U-Net, pixelate, blur start %H:%M:%S"
    WORK_DIR="$work/$name" FRAMES=$frames HELDOUT_SEED=$heldout_seed METHODS=gan,pixelate,blur \
        RESULTS_DIR="$work/$name/results" bash scripts/demo_model_evidence.sh
    date -u +"$name: candidate start %H:%M:%S"
    held_out="$work/$name/heldout" out="$work/$name/candidate"
    for seed in 0 1; do
        "$AGAN_PYTHON" anonymize.py -i "$held_out/leftImg8bit" -a "$held_out/gtBboxCityPersons" \
            -o "$out/gan_seed$seed" --method gan --model_file "$candidate" --redraws 2 --blend_px 4 \
            --labels pedestrian --seed "$seed" --quiet
    done
    if [[ ! -f "$out/evaluation/metrics.json" ]]; then
        "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$out/gan_seed0" --second_sample "$out/gan_seed1" \
            --original_frames "$held_out/leftImg8bit" --annotations "$held_out/gtBboxCityPersons" \
            --out "$out/evaluation" --quiet
    fi
done
date -u +"all done %H:%M:%S"
