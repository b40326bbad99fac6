#!/usr/bin/env bash
# How much do the held-out rankings of the demo-domain models depend on which frames are drawn? A second set of 48
# synthetic frames (seed 1503: no training, test or other evaluation uses it), anonymized and measured exactly as
# the 48 held-out frames of seed 1502 (scripts/demo_model_evidence.sh: whole boxes, sampling seeds 0/1, GAN rows
# with anonymize.py --redraws 2), for the shipped U-Net, the three inpainting-generator candidates and pixelate and
# blur. Run from the repository root; the candidates' exports are those of their measure_demo_candidate.sh runs in
# ./demo_model_work (not in the repository). WORK (./demo_model_work/second_frame_set) keeps everything; every step
# resumes.
set -euo pipefail
source scripts/setup.sh
work="${WORK:-./demo_model_work/second_frame_set}"
export OMP_NUM_THREADS="${THREADS:-2}"
frames="$work/frames"
if [[ ! -f "$frames/identities.json" ]]; then
    "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$frames" --frames 48 --seed 1503 --quiet
fi
declare -A model_files=(
    [shipped_unet]=models/shipped/demo_psgan.pth
    [inpaint_seed1501]=demo_model_work/inpaint_second_stage/demo_psgan_inpaint_second.pth
    [inpaint_seed1531]=demo_model_work/inpaint_seed1531/demo_psgan_inpaint_seed1531.pth
    [inpaint_ngf40]=demo_model_work/inpaint_ngf40/demo_psgan_inpaint_ngf40.pth
    [traditional]=models/shipped/demo_psgan.pth
)
for row in shipped_unet inpaint_seed1501 inpaint_seed1531 inpaint_ngf40 traditional; do
    methods=gan
    [[ "$row" == traditional ]] && methods=pixelate,blur
    mkdir -p "$work/$row"
    # demo_model_evidence.sh makes its frames (seed 1502) unless WORK_DIR/heldout has some: give it this set's
    ln -sfn "$(realpath "$frames")" "$work/$row/heldout"
    date -u +"$row start %H:%M:%S"
    WORK_DIR="$work/$row" FRAMES=48 MODEL_FILE="${model_files[$row]}" METHODS="$methods" REDRAWS=2 \
        RESULTS_DIR="$work/$row/results" bash scripts/demo_model_evidence.sh
done
date -u +"all done %H:%M:%S"
