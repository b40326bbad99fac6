"""Evaluation of A-GAN results: offline pretrained weights (``weights``) and fidelity metrics."""
