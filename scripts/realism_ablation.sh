#!/usr/bin/env bash
# Ablation of the realism recipe (docs/realism_recipe.md): one psgan run per training row, all with the data,
# networks and seed of scripts/train_demo_model.sh but a shorter, cheaper budget (batch 16, EPOCHS epochs at the
# constant learning rate), each measured like the shipped model on the held-out frames of
# scripts/demo_model_evidence.sh (person FID/KID, LPIPS-diversity between seeds 0 and 1, re-ID rank-1).
# Rows:
#   thesis                   the thesis's L1 over the whole crop (--L1_box_weight 1), no extras, its generator
#   mode_seeking_pixel       --L1_box_weight 0.1 (the L1 pull inside the box at a tenth) + --lambda_mode_seeking
#                            0.05 on per-pixel distances (the paper's form) + --ema_decay 0.998: the live generator
#   mode_seeking_pixel_ema   the same run's moving average of G
#   mode_seeking_pooled_ema  the mode-seeking distance between 4x4-pooled outputs instead (--mode_seeking_pool 4:
#                            the recipe), moving average
# Run scripts/train_demo_model.sh (for the crops) and scripts/demo_model_evidence.sh (for the held-out frames)
# first. Every step resumes. Environment overrides: WORK_DIR (./demo_model_work), EPOCHS (4), THREADS (1),
# OUT (docs/results/demo_model/ablation).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
source scripts/demo_model_recipe.sh

work_dir="${WORK_DIR:-./demo_model_work}"
epochs="${EPOCHS:-4}"
out="${OUT:-docs/results/demo_model/ablation}"
ablation_dir="$work_dir/ablation"
held_out="$work_dir/heldout"
export OMP_NUM_THREADS="${THREADS:-1}"
[[ -f "$held_out/identities.json" ]] || { echo "error: $held_out: run scripts/demo_model_evidence.sh first" >&2; exit 2; }
[[ -f "$work_dir/crops/manifest.json" ]] || { echo "error: $work_dir/crops: run scripts/train_demo_model.sh first" >&2; exit 2; }

# The recipe's train.py settings without its losses (scripts/demo_model_recipe.sh), at the ablation's budget.
common=(--dataroot "$work_dir/crops" --checkpoints_dir "$ablation_dir/checkpoints" "${demo_model_flags[@]}"
    --batch_size 16 --n_epochs "$epochs" --n_epochs_decay 0 --save_val_freq "$epochs" "${demo_logging_flags[@]}")

train_row() {  # name, loss flags...
    local name="$1"; shift
    if [[ -f "$ablation_dir/checkpoints/$name/best_net_G.pth" ]]; then
        return
    fi
    local resume=()
    [[ -f "$ablation_dir/checkpoints/$name/latest_state.pth" ]] && resume=(--continue_train)
    echo "== train $name: $*"
    "$AGAN_PYTHON" train.py "${common[@]}" --name "$name" "$@" "${resume[@]}"
}

export_row() {  # row, run folder, live|ema
    local row="$1" run="$2" which="$3" source="$2"
    [[ -f "$ablation_dir/models/$row.pth" ]] && return
    if [[ "$which" == live ]]; then  # the same run without its moving average: load_model then takes the live G
        source="$ablation_dir/live/$row"
        mkdir -p "$source"
        find "$run" -maxdepth 1 -type f ! -name '*_net_G_ema.pth' -exec cp {} "$source/" \;
    fi
    mkdir -p "$ablation_dir/models"
    "$AGAN_PYTHON" scripts/export_model.py "$source" --epoch best --out "$ablation_dir/models/$row.pth"
}

measure_row() {  # row
    local row="$1"
    for seed in 0 1; do
        "$AGAN_PYTHON" anonymize.py -i "$held_out/leftImg8bit" -a "$held_out/gtBboxCityPersons" \
            -o "$ablation_dir/anonymized/${row}_seed$seed" --method gan --model_file "$ablation_dir/models/$row.pth" \
            --labels pedestrian --seed "$seed" --quiet
    done
    [[ -f "$ablation_dir/evaluations/$row/metrics.json" ]] && return
    "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$ablation_dir/anonymized/${row}_seed0" \
        --second_sample "$ablation_dir/anonymized/${row}_seed1" --original_frames "$held_out/leftImg8bit" \
        --annotations "$held_out/gtBboxCityPersons" --out "$ablation_dir/evaluations/$row" --quiet
}

train_row thesis --L1_box_weight 1
train_row mode_seeking_pixel --L1_box_weight 0.1 --lambda_mode_seeking 0.05 --ema_decay 0.998
train_row mode_seeking_pooled "${demo_recipe_losses[@]}"

export_row thesis "$ablation_dir/checkpoints/thesis" live
export_row mode_seeking_pixel "$ablation_dir/checkpoints/mode_seeking_pixel" live
export_row mode_seeking_pixel_ema "$ablation_dir/checkpoints/mode_seeking_pixel" ema
export_row mode_seeking_pooled_ema "$ablation_dir/checkpoints/mode_seeking_pooled" ema
rows=(thesis mode_seeking_pixel mode_seeking_pixel_ema mode_seeking_pooled_ema)
for row in "${rows[@]}"; do
    measure_row "$row"
done

mkdir -p "$out"
"$AGAN_PYTHON" scripts/demo_model_report.py table --evaluations "$ablation_dir/evaluations" \
    --methods "$(IFS=,; echo "${rows[*]}")" --out "$out/table.md"
"$AGAN_PYTHON" scripts/demo_model_report.py persons --original "$held_out/leftImg8bit" \
    --annotations "$held_out/gtBboxCityPersons" --out "$out/persons.png" \
    --rows "$(for row in "${rows[@]}"; do printf '%s=%s,' "$row" "$ablation_dir/anonymized/${row}_seed0"; done | sed 's/,$//')"
for row in "${rows[@]}"; do
    cp "$ablation_dir/evaluations/$row/metrics.json" "$out/$row.json"
done
echo "done: $out/table.md, $out/persons.png"
