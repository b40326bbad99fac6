#!/usr/bin/env bash
# Train the demo model from scratch with the dilated inpainting generator (--netG inpaint) and every other setting
# of the shipped recipe's first stage (rule.md beside this file), export its best checkpoint and measure the
# held-out GAN rows. Run from the repository root after the recipe's data exist in ./demo_model_work (steps 1-2 of
# scripts/train_demo_model.sh); every step resumes. WORK (evaluations) defaults to ./demo_model_work/inpaint;
# THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/inpaint}"
export OMP_NUM_THREADS="${THREADS:-2}"
name=demo_people64_inpaint
resume=()
[[ -f "checkpoints/$name/latest_state.pth" ]] && resume=(--continue_train)
date -u +"training start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$name" "${demo_model_flags[@]}" --netG inpaint \
    "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" --batch_size 4 \
    --n_epochs 15 --n_epochs_decay 11 --save_val_freq 2 "${demo_logging_flags[@]}" "${resume[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$name" "$work/demo_psgan_inpaint.pth" "$work"
