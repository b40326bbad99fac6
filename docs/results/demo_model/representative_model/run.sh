#!/usr/bin/env bash
# rule.md's confirmation, from the repository root: 48 held-out frames of seed 1506 (used by nothing before), the
# chosen run's export and the four traditional methods measured on them by scripts/demo_model_evidence.sh (whole
# boxes, the model file's feather, anonymize.py's default --redraws 2, sampling seeds 0 and 1), the evaluations
# copied to evaluations/<method>_1506.json; then select_run.py prints the reading.
#   MODEL_FILE=<the chosen run's export> OUT=<work folder> bash docs/results/demo_model/representative_model/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
model_file="${MODEL_FILE:?set MODEL_FILE to the export of the chosen run}"
out="${OUT:?set OUT to a work folder}"
here=docs/results/demo_model/representative_model
methods=gan,blur,pixelate,mask,noise
HELDOUT_SEED=1506 FRAMES=48 WORK_DIR="$out" MODEL_FILE="$model_file" METHODS="$methods" RESULTS_DIR="$out/results" \
    bash scripts/demo_model_evidence.sh
mkdir -p "$here/evaluations"
for method in ${methods//,/ }; do
    cp "$out/evaluations/$method/metrics.json" "$here/evaluations/${method}_1506.json"
done
source scripts/setup.sh
"$AGAN_PYTHON" "$here/select_run.py"
