#!/usr/bin/env bash
# Train the demo model from scratch with the cVAE-GAN branch instead of the person's L1 pull and mode seeking
# (rule.md beside this file), export its best checkpoint and measure the held-out GAN rows. Run from the
# repository root after the recipe's data exist in ./demo_model_work (steps 1-2 of scripts/train_demo_model.sh);
# every step resumes. WORK (evaluations) defaults to ./demo_model_work/cvae_branch; THREADS to 2.
set -euo pipefail
source scripts/setup.sh
source scripts/demo_model_recipe.sh
work="${WORK:-./demo_model_work/cvae_branch}"
export OMP_NUM_THREADS="${THREADS:-2}"
name=demo_people64_vae
resume=()
[[ -f "checkpoints/$name/latest_state.pth" ]] && resume=(--continue_train)
date -u +"training start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot ./demo_model_work/crops --name "$name" "${demo_model_flags[@]}" \
    --netG_noise latent --lambda_vae_L1 10 --lambda_kl 0.01 --L1_box_weight 0 --ema_decay 0.998 \
    "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" --batch_size 4 --n_epochs 12 --n_epochs_decay 6 \
    --save_val_freq 2 "${demo_logging_flags[@]}" "${resume[@]}"
bash scripts/measure_demo_candidate.sh "checkpoints/$name" "$work/demo_psgan_cvae.pth" "$work"
