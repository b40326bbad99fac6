"""Training: the epoch loop (``Trainer``) and the per-epoch validation that picks ``best`` (``Validator``).

Above ``data``, ``models`` and ``evaluation`` (the validation measures FID); ``train.py`` is its thin entry point.
"""
