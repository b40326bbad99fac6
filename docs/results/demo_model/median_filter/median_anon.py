"""Experiment only: anonymize.py with each generated window median-filtered (side MEDIAN, env)."""
import os, sys, runpy
sys.path.insert(0, os.getcwd())
import cv2, numpy as np
import anonymizer.generator as g
k = int(os.environ["MEDIAN"])
orig = g.WindowGenerator.__call__
def call(self, windows, seed):
    out = orig(self, windows, seed)
    return [None if img is None else cv2.medianBlur(np.clip(np.rint(img), 0, 255).astype(np.uint8), k).astype(np.float32)
            for img in out]
g.WindowGenerator.__call__ = call
sys.argv = ["anonymize.py", *sys.argv[1:]]
runpy.run_path("anonymize.py", run_name="__main__")
