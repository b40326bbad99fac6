#!/usr/bin/env bash
# Section 5, from any directory: the four full runs on the held-out sets of seeds 1503 and 1504 (whole boxes) with
# pixelate and blur, then the reruns in their persons' shapes on the seed-1502 set; one
# scripts/demo_model_evidence.sh call per row, each in WORK/<row>_<set> (./spread_work/frame_sets by default).
# The reruns' exports (not committed): REPRODUCTION, SEED1541, SEED1551. Resumes when run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
source scripts/setup.sh
: "${REPRODUCTION:?set REPRODUCTION, SEED1541 and SEED1551 to the exported model files of the reruns}"
: "${SEED1541:?set SEED1541 to the exported model file of the seed-1541 run}"
: "${SEED1551:?set SEED1551 to the exported model file of the seed-1551 run}"
export OMP_NUM_THREADS=2
declare -A models=([shipped]=models/shipped/demo_psgan.pth [reproduction]=$REPRODUCTION [seed1541]=$SEED1541
    [seed1551]=$SEED1551)
base=${WORK:-./spread_work/frame_sets}
evidence() {  # WORK_DIR HELDOUT_SEED MODEL_FILE METHODS
    date -u +"$1 start %H:%M:%S"
    HELDOUT_SEED=$2 WORK_DIR=$1 FRAMES=48 MODEL_FILE=$3 METHODS=$4 RESULTS_DIR=$1/results \
        bash scripts/demo_model_evidence.sh > "$1.log" 2>&1
}
for set in 1503 1504 1502; do
    frames=$base/frames_$set
    [[ -f $frames/identities.json ]] || "$AGAN_PYTHON" -m synthetic.make_demo_data --out "$frames" --frames 48 \
        --seed $set --quiet
    rows=(traditional shipped reproduction seed1541 seed1551)
    [[ $set == 1502 ]] && rows=(reproduction seed1541 seed1551)  # shapes only; whole boxes are section 4's
    for row in "${rows[@]}"; do
        work=$base/${row}_$set
        mkdir -p "$work"
        [[ -e $work/heldout ]] || cp -r "$frames" "$work/heldout"
        if [[ $set == 1502 ]]; then
            evidence "$work" $set "${models[$row]}" gan_shape
        elif [[ $row == traditional ]]; then
            evidence "$work" $set "${models[shipped]}" pixelate,blur
        else
            evidence "$work" $set "${models[$row]}" gan
        fi
    done
done
