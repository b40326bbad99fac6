#!/usr/bin/env bash
# Does capping oneDNN's instruction set change what the recipe trains on this CPU? (section 9)
# From the repository root, after scripts/train_demo_model.sh has made its crops:
#   OUT=<folder> bash docs/results/demo_model/spread/isa_caps.sh
# Trains the recipe's first stage for 20 steps (80 crops, one epoch) once per ONEDNN_MAX_CPU_ISA value, two threads,
# and prints the SHA-256 of each run's generator weights: equal hashes mean bit-identical training.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
source scripts/demo_model_recipe.sh
out="${OUT:?set OUT to a scratch folder}"
crops="${CROPS:-demo_model_work/crops}"
for isa in DEFAULT AVX512_CORE_AMX AVX512_CORE_BF16 AVX512_CORE AVX2; do
    ONEDNN_MAX_CPU_ISA="$isa" OMP_NUM_THREADS=2 "$AGAN_PYTHON" train.py --dataroot "$crops" --name "isa_$isa" \
        --checkpoints_dir "$out" "${demo_model_flags[@]}" "${demo_recipe_losses[@]}" "${demo_recipe_augment[@]}" \
        "${demo_silhouette_flags[@]}" "${demo_inpaint_flags[@]}" --batch_size 4 --n_epochs 1 --n_epochs_decay 0 \
        --max_dataset_size 80 --save_val_freq 100 --quiet > "$out/isa_$isa.log"
    echo "$isa $(sha256sum "$out/isa_$isa/latest_net_G.pth" | cut -c1-16)"
done
