#!/usr/bin/env bash
# The next candidate for the default (rule.md beside this file, written before the run started): the inpainting
# generator at ngf 40, both stages of the recipe, 20 first-stage epochs (12 + 8 decaying) to stay within 2 hours;
# then the held-out GAN rows with anonymize.py --redraws 2. Run from the repository root after the recipe's data
# exist in ./demo_model_work; every step resumes. WORK (evaluations) defaults to ./demo_model_work/inpaint_ngf40;
# THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/inpaint_ngf40}"
export OMP_NUM_THREADS="${THREADS:-2}"
first=demo_people64_inpaint_ngf40
second="${first}_second"
flags=("${demo_model_flags[@]}" --netG inpaint --ngf 40 "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}"
    "${demo_silhouette_flags[@]}" --batch_size 4 --save_val_freq 2 "${demo_logging_flags[@]}")
resume=()
[[ -f "checkpoints/$first/latest_state.pth" ]] && resume=(--continue_train)
date -u +"first stage start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$first" "${flags[@]}" --n_epochs 12 \
    --n_epochs_decay 8 "${resume[@]}"
start=(--init_from "checkpoints/$first" --epoch best)
[[ -f "checkpoints/$second/latest_state.pth" ]] && start=(--continue_train)
date -u +"second stage start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$second" "${flags[@]}" --lr 0.0001 --n_epochs 2 \
    --n_epochs_decay 4 "${start[@]}"
REDRAWS=2 bash scripts/measure_demo_candidate.sh "checkpoints/$second" "$work/demo_psgan_inpaint_ngf40.pth" "$work"
