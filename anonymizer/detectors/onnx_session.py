"""onnxruntime sessions for the ONNX detectors (a user's YOLO export, CenterFace), set up alike."""

from __future__ import annotations

import torch

from ..detection import DetectionError


def onnx_session(model: str | bytes, device: str, source: str, threads: int | None = None):
    """An InferenceSession on the CPU (or CUDA when asked and available). It uses as many threads as torch (which
    follows OMP_NUM_THREADS) and does not spin-wait: on a shared CPU, onnxruntime's default of one spinning thread
    per core made one 512 px CenterFace pass take seconds instead of a fraction of one."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers: list = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        index = int(device.partition(":")[2] or 0)  # cuda:N under torchrun: this process's GPU
        providers.insert(0, ("CUDAExecutionProvider", {"device_id": index}))
    try:
        return onnxruntime.InferenceSession(model, options, providers=providers)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise DetectionError(f"{source}: cannot be loaded by onnxruntime ({error})") from None
