#!/usr/bin/env bash
# Pilot 2's critic, from any directory: train only fresh discriminators against the frozen generator of an exported
# model file, with the recipe's second-stage flags, lr 2e-4, 4 epochs (the generator and its moving average are
# never updated: --pretrain_iters_D exceeds the run's iterations). The critic is checkpoints/NAME/best_net_D_person.pth.
#   bash docs/results/demo_model/critic_selection/train_critic.sh critic_repro /path/to/repro_psgan.pth
# Resumes when run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
name=$1; model=$2
source scripts/setup.sh
source scripts/demo_model_recipe.sh
export OMP_NUM_THREADS=2
start=(--init_from "$model" --pretrain_iters_D 100000)
[[ -f "checkpoints/$name/latest_state.pth" ]] && start=(--continue_train)
date -u +"train start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot demo_model_work/crops --name "$name" "${demo_model_flags[@]}" \
    "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}" "${demo_silhouette_flags[@]}" "${demo_inpaint_flags[@]}" \
    --lr 0.0002 --n_epochs 4 --n_epochs_decay 0 --batch_size 4 --save_val_freq 4 --save_epoch_freq 4 \
    "${demo_logging_flags[@]}" "${start[@]}"
date -u +"train end %H:%M:%S"
