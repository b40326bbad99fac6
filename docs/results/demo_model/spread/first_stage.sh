#!/usr/bin/env bash
# The spread study's first stages, from the repository root, after scripts/train_demo_model.sh has made its data in
# ./demo_model_work: the recipe's first stage (that script's stage 3, its own flags and data) with training seed SEED
# instead of 1501, every second epoch's checkpoint kept, in checkpoints/NAME. Resumes when run again.
#   bash docs/results/demo_model/spread/first_stage.sh s30_seed1541 1541   # rule_epoch_selection.md
#   bash docs/results/demo_model/spread/first_stage.sh s31_seed1551 1551   # rule_run_spread.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
name=$1; seed=$2
source scripts/setup.sh
source scripts/demo_model_recipe.sh
export OMP_NUM_THREADS=2
variant=("${demo_silhouette_flags[@]}" "${demo_inpaint_flags[@]}")
resume=()
[[ -f "checkpoints/$name/latest_state.pth" ]] && resume=(--continue_train)
date -u +"train start %H:%M:%S"
"$AGAN_PYTHON" train.py --dataroot demo_model_work/crops --name "$name" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}" \
    "${demo_recipe_augment[@]}" "${variant[@]}" --batch_size 4 --n_epochs 15 --n_epochs_decay 11 --save_val_freq 2 \
    "${demo_logging_flags[@]}" --seed "$seed" --save_epoch_freq 2 "${resume[@]}"
date -u +"train end %H:%M:%S"
