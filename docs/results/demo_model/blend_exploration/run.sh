#!/usr/bin/env bash
# Exploration, not a decision: does feathering the pasted box's edge (anonymize.py --blend_px 4) lower the held-out
# person FID, whose 1:2 windows show the box edges the inpainting generator leaves? The seed-1501 inpainting model
# (ngf 32, both stages) and the shipped U-Net on both 48-frame held-out sets (seeds 1502, 1503), whole boxes,
# sampling seeds 0/1, --redraws 2, measured by evaluation.evaluate as scripts/demo_model_evidence.sh does. Run from
# the repository root after docs/results/demo_model/second_frame_set/run.sh and the candidates' measurements (their
# frames and exports in ./demo_model_work). Every step resumes.
set -euo pipefail
source scripts/setup.sh
export OMP_NUM_THREADS="${THREADS:-2}"
work=./demo_model_work/blend_exploration
declare -A frame_sets=([seed1502]=demo_model_work/inpaint_second_stage/eval48/heldout
                       [seed1503]=demo_model_work/second_frame_set/frames)
declare -A model_files=([inpaint_seed1501]=demo_model_work/inpaint_second_stage/demo_psgan_inpaint_second.pth
                        [shipped_unet]=models/shipped/demo_psgan.pth)
for run in inpaint_seed1501:seed1503 inpaint_seed1501:seed1502 shipped_unet:seed1503 shipped_unet:seed1502; do
    IFS=: read -r model frame_set <<< "$run"
    frames="${frame_sets[$frame_set]}" out="$work/${model}_$frame_set"
    date -u +"$model $frame_set start %H:%M:%S"
    for seed in 0 1; do
        "$AGAN_PYTHON" anonymize.py -i "$frames/leftImg8bit" -a "$frames/gtBboxCityPersons" -o "$out/gan_seed$seed" \
            --method gan --model_file "${model_files[$model]}" --redraws 2 --blend_px 4 --labels pedestrian \
            --seed "$seed" --quiet
    done
    if [[ ! -f "$out/evaluation/metrics.json" ]]; then
        "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$out/gan_seed0" --second_sample "$out/gan_seed1" \
            --original_frames "$frames/leftImg8bit" --annotations "$frames/gtBboxCityPersons" \
            --out "$out/evaluation" --quiet
    fi
done
date -u +"all done %H:%M:%S"
