#!/usr/bin/env bash
# rule.md's measurements, from the repository root: the run's export on the 48 held-out frames of seeds 1502, 1503
# and 1504 (scripts/demo_model_evidence.sh, GAN rows only: whole boxes, the model file's feather, --redraws 2,
# sampling seeds 0 and 1; evaluations copied to evaluations/gan_<seed>.json), then every method on the README's 12
# frames of seed 1502 (table, picture and evaluations in heldout12/); then judge.py prints the readings. Each set
# is made and measured in OUT/<seed> (OUT/12frames); a set already measured is skipped when run again.
#   MODEL_FILE=<export of checkpoints/s38_96px_2h_background> OUT=<work folder> \
#       bash docs/results/demo_model/recipe_96px_2h/measure.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
model_file="${MODEL_FILE:?set MODEL_FILE to the export of the run}"
out="${OUT:?set OUT to a work folder}"
here=docs/results/demo_model/recipe_96px_2h
mkdir -p "$here/evaluations"
for seed in 1502 1503 1504; do
    result="$here/evaluations/gan_$seed.json"
    [[ -f "$result" ]] && continue
    date -u +"set $seed start %H:%M:%S"
    HELDOUT_SEED=$seed FRAMES=48 WORK_DIR="$out/$seed" MODEL_FILE="$model_file" METHODS=gan \
        RESULTS_DIR="$out/$seed/results" bash scripts/demo_model_evidence.sh > "$out/$seed.log" 2>&1
    cp "$out/$seed/evaluations/gan/metrics.json" "$result"
done
if [[ ! -f "$here/heldout12/evaluations/gan.json" ]]; then
    date -u +"12 frames start %H:%M:%S"
    FRAMES=12 WORK_DIR="$out/12frames" MODEL_FILE="$model_file" RESULTS_DIR="$here/heldout12" \
        bash scripts/demo_model_evidence.sh > "$out/12frames.log" 2>&1
fi
date -u +"measured %H:%M:%S"
source scripts/setup.sh
"$AGAN_PYTHON" "$here/judge.py"
