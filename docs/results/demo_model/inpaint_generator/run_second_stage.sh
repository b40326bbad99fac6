#!/usr/bin/env bash
# The inpainting-generator run's second stage (rule.md beside this file, addendum): from its best checkpoint, the
# same flags at half the learning rate for 2 + 4 decaying epochs, then the held-out GAN rows. Run after run.sh.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/inpaint_second_stage}"
export OMP_NUM_THREADS="${THREADS:-2}"
name=demo_people64_inpaint_second
start=(--init_from checkpoints/demo_people64_inpaint --epoch best)
[[ -f "checkpoints/$name/latest_state.pth" ]] && start=(--continue_train)
date -u +"training start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$name" "${demo_model_flags[@]}" --netG inpaint \
    "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" --batch_size 4 \
    --lr 0.0001 --n_epochs 2 --n_epochs_decay 4 --save_val_freq 2 "${demo_logging_flags[@]}" "${start[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$name" "$work/demo_psgan_inpaint_second.pth" "$work"
