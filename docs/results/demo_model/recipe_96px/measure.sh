#!/usr/bin/env bash
# rule.md's measurements, from the repository root: the full run's export on the 48 held-out frames of seeds 1502,
# 1503 and 1504 (scripts/demo_model_evidence.sh, GAN rows only: whole boxes, the model file's feather, --redraws 2,
# sampling seeds 0 and 1), each set in OUT/<seed>, the evaluations copied to evaluations/seed1551_96px_<seed>.json;
# then judge.py prints the readings. Resumes when run again (a set already measured is skipped).
#   MODEL_FILE=<export of checkpoints/s37_seed1551_background> OUT=<work folder> \
#       bash docs/results/demo_model/recipe_96px/measure.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
model_file="${MODEL_FILE:?set MODEL_FILE to the export of the full run}"
out="${OUT:?set OUT to a work folder}"
here=docs/results/demo_model/recipe_96px
bash scripts/demo_gan_rows.sh "$model_file" "$out" "$here/evaluations/seed1551_96px_" 1502 1503 1504
date -u +"measured %H:%M:%S"
source scripts/setup.sh
"$AGAN_PYTHON" "$here/judge.py"
