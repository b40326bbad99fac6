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
bash scripts/demo_gan_rows.sh "$model_file" "$out" "$here/evaluations/gan_" 1502 1503 1504
if [[ ! -f "$here/heldout12/evaluations/gan.json" ]]; then
    date -u +"12 frames start %H:%M:%S"
    FRAMES=12 WORK_DIR="$out/12frames" MODEL_FILE="$model_file" RESULTS_DIR="$here/heldout12" \
        bash scripts/demo_model_evidence.sh > "$out/12frames.log" 2>&1
fi
date -u +"measured %H:%M:%S"
source scripts/setup.sh
"$AGAN_PYTHON" "$here/judge.py"
