#!/usr/bin/env bash
# The inpainting generator's two stages with training seed 1531 (rule_seed1531.md beside this file), then the
# held-out GAN rows. Run from the repository root after the recipe's data exist in ./demo_model_work; every step
# resumes. WORK (evaluations) defaults to ./demo_model_work/inpaint_seed1531; THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/inpaint_seed1531}"
export OMP_NUM_THREADS="${THREADS:-2}"
first=demo_people64_inpaint_seed1531
second="${first}_second"
flags=("${demo_model_flags[@]}" --netG inpaint --seed 1531 "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}"
    "${demo_silhouette_flags[@]}" --batch_size 4 --save_val_freq 2 "${demo_logging_flags[@]}")
resume=()
[[ -f "checkpoints/$first/latest_state.pth" ]] && resume=(--continue_train)
date -u +"first stage start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$first" "${flags[@]}" --n_epochs 15 \
    --n_epochs_decay 11 "${resume[@]}"
start=(--init_from "checkpoints/$first" --epoch best)
[[ -f "checkpoints/$second/latest_state.pth" ]] && start=(--continue_train)
date -u +"second stage start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$second" "${flags[@]}" --lr 0.0001 --n_epochs 2 \
    --n_epochs_decay 4 "${start[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$second" "$work/demo_psgan_inpaint_seed1531.pth" "$work"
