#!/usr/bin/env bash
# anonymize.py --redraws 2 on the 48 held-out frames (seed 1502) with the seed-1531 and seed-1501 inpainting
# candidates and the shipped model, sampling seeds 0/1, then evaluation.evaluate (README beside this file). Run from the repository
# root after docs/results/demo_model/inpaint_generator/run_seed1531.sh (its export and held-out frames).
set -euo pipefail
W=demo_model_work/inpaint_seed1531
H=$W/eval48/heldout
date -u +"start %H:%M:%S"
for m in seed1531 shipped seed1501; do
    model=(--model_file $W/demo_psgan_inpaint_seed1531.pth)
    [[ $m == shipped ]] && model=()  # no --model_file: the shipped default
    # the seed-1501 run's export (../inpaint_generator/run_second_stage.sh), run last, 00:56-00:59 UTC
    [[ $m == seed1501 ]] && model=(--model_file demo_model_work/inpaint_second_stage/demo_psgan_inpaint_second.pth)
    for s in 0 1; do
        .venv/bin/python anonymize.py -i $H/leftImg8bit -a $H/gtBboxCityPersons -o $W/redraws2/${m}_seed$s \
            --method gan "${model[@]}" --redraws 2 --labels pedestrian --seed $s --quiet
    done
    .venv/bin/python -m evaluation.evaluate --frames_dir $W/redraws2/${m}_seed0 --second_sample $W/redraws2/${m}_seed1 \
        --original_frames $H/leftImg8bit --annotations $H/gtBboxCityPersons --out $W/redraws2/eval_$m --quiet
done
date -u +"done %H:%M:%S"
