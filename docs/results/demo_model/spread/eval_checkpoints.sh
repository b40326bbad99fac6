#!/usr/bin/env bash
# For each kept checkpoint of RUN (EPOCHS), measured as the shipped run's first stage was (eval mode, no feather,
# no redraws, sampling seed 0): person FID on the validation frames (seed 1505, 24 frames) and on the held-out
# frames (seed 1502, 48 frames). Usage: eval_ckpts.sh RUN "14 16 ..." [THREADS]
set -euo pipefail
cd /work/main
run=$1; epochs=$2; export OMP_NUM_THREADS=${3:-2}
py=.venv/bin/python
out=/work/runs/s30/ckpt_eval/$run; mkdir -p $out
heldout=/work/runs/s30/repro_shape/heldout; valframes=/work/runs/s30/valframes/frames
for e in $epochs; do
    [[ -f $out/e$e/heldout/metrics.json ]] && continue
    date -u +"epoch $e start %H:%M:%S"
    $py scripts/export_model.py checkpoints/$run --epoch $e --out $out/e$e/model.pth --network_mode eval --blend_px 0 >/dev/null
    for set in val:$valframes heldout:$heldout; do
        IFS=: read -r tag frames <<< "$set"
        $py anonymize.py -i $frames/leftImg8bit -a $frames/gtBboxCityPersons -o $out/e$e/${tag}_frames --method gan \
            --model_file $out/e$e/model.pth --redraws 0 --labels pedestrian --seed 0 --quiet --overwrite
        $py -m evaluation.evaluate --frames_dir $out/e$e/${tag}_frames --original_frames $frames/leftImg8bit \
            --annotations $frames/gtBboxCityPersons --out $out/e$e/$tag --quiet
    done
    $py -c "import json,sys; f=lambda t: json.load(open(f'$out/e$e/{t}/metrics.json'))['person_fidelity']['fid']; print('epoch $e', 'val %.1f' % f('val'), 'heldout %.1f' % f('heldout'))"
    date -u +"epoch $e end %H:%M:%S"
done
