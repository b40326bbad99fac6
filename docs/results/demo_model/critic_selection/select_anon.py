"""Experiment only: anonymize.py where each generator batch is drawn CANDIDATES times (new noise, new stranger's
silhouette) and every window keeps the draw whose box the person discriminator D_FILE scores most real (mean SPP
logit). The box's leakage check and everything after it are anonymize.py's own."""
import json
import os
import runpy
import sys

sys.path.insert(0, os.getcwd())
import torch  # noqa: E402

import anonymizer.generator as g  # noqa: E402
from models.networks import define_D_person  # noqa: E402

candidates = int(os.environ["CANDIDATES"])
with open(os.environ["D_OPTIONS"], encoding="utf-8") as options:
    opt = json.load(options)
critic = define_D_person(opt["netD_person"], 3, opt["ndf"], opt["norm"])
critic.load_state_dict(torch.load(os.environ["D_FILE"], map_location="cpu", weights_only=True))
g.per_sample_batch_norm_(critic)  # trained on one crop at a time: batch statistics of one sample
critic.eval()
draw = g.WindowGenerator.__call__


def realism(fake: torch.Tensor, windows) -> list[float]:
    scores = []
    with torch.no_grad():
        for i, window in enumerate(windows):
            x1, y1, x2, y2 = (int(v) for v in window.box)
            logits, _ = critic(fake[i:i + 1, :, y1:y2, x1:x2])
            scores.append(float(logits.mean()))
    return scores


def call(self, windows, seed):
    best, best_score = None, None
    for k in range(candidates):
        outputs = draw(self, windows, seed + 1_000_003 * k)
        scores = realism(self.model.fake_B.detach().float(), windows)
        if best is None:
            best, best_score = list(outputs), scores
            continue
        for i, (output, score) in enumerate(zip(outputs, scores, strict=True)):
            if output is not None and (best[i] is None or score > best_score[i]):
                best[i], best_score[i] = output, score
    return best


g.WindowGenerator.__call__ = call
sys.argv = ["anonymize.py", *sys.argv[1:]]
runpy.run_path("anonymize.py", run_name="__main__")
