#!/usr/bin/env bash
# rule_six_epochs.md's run, from the repository root: session 36's pilot second stage (2 + 4 epochs at 96 px)
# trained again from this page's first stage (checkpoints/s38_96px_2h), exported and measured on set 1502 by
# spread/second_stage.sh, then on sets 1503 and 1504 (GAN rows) and on the README's 12 frames (every method); the
# evaluations are copied to evaluations/six_epochs_<set>.json and heldout12_six_epochs/. Resumes when run again.
#   OUT=<work folder> bash docs/results/demo_model/recipe_96px_2h/six_epochs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../.."
out="${OUT:?set OUT to a work folder}"
here=docs/results/demo_model/recipe_96px_2h
name=s38_stage2_96px_6ep
WORK="$out" bash docs/results/demo_model/spread/second_stage.sh "$name" s38_96px_2h --load_size 108 --crop_size 96
model_file="$out/$name/model.pth"
cp "$out/$name/eval48/evaluations/gan/metrics.json" "$here/evaluations/six_epochs_1502.json"
bash scripts/demo_gan_rows.sh "$model_file" "$out" "$here/evaluations/six_epochs_" 1503 1504
FRAMES=12 WORK_DIR="$out/12frames" MODEL_FILE="$model_file" RESULTS_DIR="$here/heldout12_six_epochs" \
    bash scripts/demo_model_evidence.sh > "$out/12frames.log" 2>&1
date -u +"measured %H:%M:%S"
