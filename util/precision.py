"""Mixed precision, TF32, channels-last and determinism switches (``--amp``, ``--channels_last``, ``--no_tf32``,
``--deterministic``).

- ``--amp auto`` resolves at parse time (the saved options record the resolved value): bf16 on a CUDA GPU that
  supports it; on the CPU bf16 only when the CPU has native bf16 instructions (``avx512_bf16`` or ``amx_bf16`` in
  /proc/cpuinfo; ``bf16`` on ARM) *and* a micro-benchmark measured bf16 autocast at least ``MIN_BF16_SPEEDUP``
  times faster than fp32 there; otherwise none. Without native bf16 the CPU emulates it and autocast is slower
  than fp32 (2-core AMD EPYC, AVX2 only: README "Speed"), so no measurement is made then.
- The micro-benchmark (a conv + transposed-conv forward and backward, fp32 and bf16 interleaved, at most ~2 s)
  runs once per machine: its result is cached in ``$XDG_CACHE_HOME/agan/precision.json`` (default
  ``~/.cache/agan``), keyed by CPU model, torch version, CPU capability and thread count; a file lock makes
  concurrent processes (torchrun ranks) measure once and agree.
- An explicit ``--amp bf16`` on a CPU without native bf16 prints one warning with the measured slowdown.
- bf16 runs the forward passes of G and D under autocast (CPU or CUDA); fp16 also scales the losses with one
  ``GradScaler`` per optimizer, and needs CUDA (CPU fp16 autocast has no benefit and the scaler is CUDA's).
- Losses are always computed in fp32: network outputs are cast to float before GANLoss and L1.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from util.fileio import atomic_write_json

AMP_MODES = ("auto", "bf16", "fp16", "none")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")  # x86 AVX-512 BF16 / AMX; ARM's "bf16" feature
REPORTED_FLAGS = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
                  "amx_bf16", "amx_int8", "asimd", "sve", "bf16")
MIN_BF16_SPEEDUP = 1.1  # below this the measured gain is within run-to-run noise: keep fp32's accuracy
_WARNED: set[str] = set()
_MEASURED: dict[str, dict] = {}


def cuda_requested(gpu_ids: list[int]) -> bool:
    return bool(gpu_ids) and torch.cuda.is_available()


def cpu_info(cpuinfo: str | None = None) -> dict:
    """CPU model, the ISA flags that matter for speed, and torch's CPU kernel level (``get_cpu_capability``)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    model, flags = "", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return {"model": model or platform.processor() or platform.machine(),
            "flags": [f for f in REPORTED_FLAGS if f in flags],
            "torch_capability": torch.backends.cpu.get_cpu_capability()}


def native_bf16(info: dict) -> bool:
    return any(flag in info["flags"] for flag in NATIVE_BF16_FLAGS)


def resolve_amp(amp: str, on_cuda: bool) -> str:
    """``auto`` -> bf16 on a bf16-capable GPU or a CPU measured faster in bf16 (see the module docstring), else
    none; other values unchanged."""
    if amp != "auto":
        return amp
    if on_cuda:
        return "bf16" if torch.cuda.is_bf16_supported() else "none"
    info = cpu_info()
    if not native_bf16(info):
        return "none"
    return "bf16" if bf16_measurement(info)["bf16_speedup"] >= MIN_BF16_SPEEDUP else "none"


def choose_amp(amp: str, on_cuda: bool) -> str:
    """``resolve_amp``, plus one warning per process when an explicit bf16 will be slower on this CPU."""
    resolved = resolve_amp(amp, on_cuda)
    if resolved == "bf16" and not on_cuda and amp == "bf16":
        warning = slow_bf16_warning(cpu_info())
        if warning and warning not in _WARNED:
            _WARNED.add(warning)
            print(f"warning: {warning}", file=sys.stderr)
    return resolved


def slow_bf16_warning(info: dict) -> str:
    """'' unless this CPU lacks native bf16 and bf16 measured slower than fp32 here."""
    if native_bf16(info):
        return ""
    measured = bf16_measurement(info)
    if measured["bf16_speedup"] >= 1.0:
        return ""
    return (f"--amp bf16 on a CPU without native bf16 ({info['model']}; flags {' '.join(info['flags']) or 'none'}): "
            f"bf16 autocast measured {1 / measured['bf16_speedup']:.1f}x slower than fp32 here (micro-benchmark, "
            f"{measured['threads']} threads, cached in {cache_file()}); --amp auto or none runs in fp32")


def amp_problem(amp: str, on_cuda: bool, gan_modes: tuple[str, ...] = ()) -> str:
    """'' when the (resolved) mode can run here, else the reason."""
    if amp == "fp16" and not on_cuda:
        return "--amp fp16 needs a CUDA GPU (loss scaling); use --amp bf16 or none on the CPU"
    if amp == "fp16" and "wgangp" in gan_modes:
        return "--amp fp16 with wgangp: the gradient penalty's inner gradient is not loss-scaled; use bf16"
    return ""


class Precision:
    """Autocast context and gradient scalers for one device and ``--amp`` mode."""

    def __init__(self, amp: str, device: torch.device) -> None:
        if amp not in _DTYPES and amp != "none":
            raise ValueError(f"amp mode {amp!r} is not resolved (expected bf16, fp16 or none)")
        self.amp = amp
        self.device = device

    @property
    def enabled(self) -> bool:
        return self.amp != "none"

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=_DTYPES[self.amp])

    def make_scaler(self) -> torch.amp.GradScaler | None:
        """A loss scaler for fp16 (None otherwise: bf16 has fp32's exponent range)."""
        return torch.amp.GradScaler("cuda") if self.amp == "fp16" else None


def to_float(value: Any) -> Any:
    """Tensors (also inside tuples and lists) as fp32, so losses are computed in full precision."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(to_float(v) for v in value)
    return value


def configure_backends(deterministic: bool, tf32: bool = True) -> None:
    """Determinism switches (the original misspelt the cuDNN flag: docs/differences_from_original.md#determinism) or
    cuDNN autotuning; TF32.

    ``deterministic``: deterministic algorithms everywhere (ops without one raise), cuDNN deterministic and not
    benchmarking, and the cuBLAS workspace setting its deterministic mode needs (set before cuBLAS starts).
    """
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    # TF32 only affects Ampere+ GPUs (matmul and convolutions); it is deterministic, so independent of the above.
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


# -- the cached micro-benchmark --------------------------------------------------------------------------------


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agan" / "precision.json"


def measurement_key(info: dict, threads: int) -> str:
    return f"{info['model']} | torch {torch.__version__} | {info['torch_capability']} | {threads} threads"


def bf16_measurement(info: dict) -> dict:
    """This machine's fp32 vs bf16 micro-benchmark: from the cache, else measured now and cached."""
    key = measurement_key(info, torch.get_num_threads())
    if key in _MEASURED:
        return _MEASURED[key]
    path = cache_file()
    with _locked(path.with_suffix(".lock")):
        cached = _read_cache(path)
        if key not in cached:
            cached[key] = measure_bf16_speedup()
            try:
                atomic_write_json(path, cached)
            except OSError as error:
                print(f"[precision] cannot cache the measurement in {path}: {error}", file=sys.stderr)
    _MEASURED[key] = cached[key]
    return cached[key]


def _read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextlib.contextmanager
def _locked(lock_path: Path):
    """An exclusive lock across processes (best effort: without fcntl or a writable folder, none)."""
    try:
        import fcntl

        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a")  # noqa: SIM115 - held for the duration of the with-block
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def measure_bf16_speedup(max_repeats: int = 5, budget_s: float = 2.0) -> dict:
    """Median seconds of a small training-like step (conv 32->64 and a transposed conv back on 1 x 32 x 32 x 32,
    forward and backward) in fp32 and under bf16 autocast, interleaved after one warm-up each, until
    ``max_repeats`` pairs or ``budget_s`` seconds (emulated bf16 can be 20x slower); speed-up = fp32 / bf16."""
    generator_state = torch.get_rng_state()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.ConvTranspose2d(64, 32, 4, 2, 1))
    x = torch.randn(1, 32, 32, 32)
    torch.set_rng_state(generator_state)  # measuring must not change the caller's random stream

    def step(bf16: bool) -> float:
        start = time.perf_counter()
        context = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with context:
            out = net(x)
        out.float().square().mean().backward()
        return time.perf_counter() - start

    step(False), step(True)  # warm-up: oneDNN primitive creation
    times: dict[bool, list[float]] = {False: [], True: []}
    started = time.perf_counter()
    while len(times[True]) < max_repeats and (not times[True] or time.perf_counter() - started < budget_s):
        for bf16 in (False, True):
            times[bf16].append(step(bf16))
    fp32, bf16 = statistics.median(times[False]), statistics.median(times[True])
    return {"fp32_s": round(fp32, 5), "bf16_s": round(bf16, 5), "bf16_speedup": round(fp32 / bf16, 3),
            "repeats": len(times[True]), "threads": torch.get_num_threads(),
            "measured": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
