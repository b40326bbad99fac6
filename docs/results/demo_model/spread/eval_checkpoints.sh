#!/usr/bin/env bash
# The spread study's per-checkpoint measurement (rule_epoch_selection.md), from the repository root:
#   bash docs/results/demo_model/spread/eval_checkpoints.sh RUN "EPOCHS..." [MODEL_FILE TAG]
# Each kept checkpoint of checkpoints/RUN in EPOCHS (or the one MODEL_FILE, reported as TAG) is exported in eval
# mode without feather and measured as the shipped run's first stage was (whole boxes, strangers' silhouettes,
# `--redraws 0`, sampling seed 0): person FID on 24 validation frames (seed 1505, used by nothing else) and on the
# 48 held-out frames (seed 1502). Results: $WORK/RUN/e<EPOCH>/{val,heldout}/metrics.json and one line per epoch.
# WORK defaults to ./spread_work; THREADS (2) sets OMP_NUM_THREADS. Measured epochs are skipped on a rerun.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
run=$1; epochs=$2; model_file=${3:-}; tag=${4:-}
export OMP_NUM_THREADS="${THREADS:-2}"
work="${WORK:-./spread_work}"
out="$work/$run"
val_frames="$work/val_frames_seed1505"; heldout="$work/heldout_seed1502"
[[ -f "$val_frames/demo_manifest.json" ]] || "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$val_frames" --frames 24 --seed 1505 --quiet
[[ -f "$heldout/demo_manifest.json" ]] || "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$heldout" --frames 48 --seed 1502 --quiet

measure() {  # measure NAME MODEL_FILE
    local name=$1 model=$2
    for set in "val:$val_frames" "heldout:$heldout"; do
        IFS=: read -r set_name frames <<< "$set"
        "$AGAN_PYTHON" anonymize.py -i "$frames/leftImg8bit" -a "$frames/gtBboxCityPersons" -o "$out/$name/${set_name}_frames" \
            --method gan --model_file "$model" --redraws 0 --labels pedestrian --seed 0 --quiet --overwrite
        "$AGAN_PYTHON" -m evaluation.evaluate --frames_dir "$out/$name/${set_name}_frames" \
            --original_frames "$frames/leftImg8bit" --annotations "$frames/gtBboxCityPersons" --out "$out/$name/$set_name" --quiet
    done
    "$AGAN_PYTHON" -c "import json; fid = lambda s: json.load(open('$out/$name/' + s + '/metrics.json'))['person_fidelity']['fid']; print('$name', 'validation frames %.1f' % fid('val'), 'held out %.1f' % fid('heldout'))"
}

if [[ -n "$model_file" ]]; then
    [[ -f "$out/$tag/heldout/metrics.json" ]] || measure "$tag" "$model_file"
    exit 0
fi
for epoch in $epochs; do
    [[ -f "$out/e$epoch/heldout/metrics.json" ]] && continue
    date -u +"epoch $epoch start %H:%M:%S"
    "$AGAN_PYTHON" scripts/export_model.py "checkpoints/$run" --epoch "$epoch" --out "$out/e$epoch/model.pth" \
        --network_mode eval --blend_px 0 > /dev/null
    measure "e$epoch" "$out/e$epoch/model.pth"
    date -u +"epoch $epoch end %H:%M:%S"
done
