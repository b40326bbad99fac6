"""How many intra-op threads a process uses: one rule for train.py, test.py, anonymize.py, evaluation and benchmarks.

Two processes that each run as many OpenMP threads as there are cores slow each other down about 10x on a 2-core
machine (OpenMP threads spin while they wait for a core that the other process holds; README.md, "Speed").
So the cores are shared out, in this order of precedence:

1. ``--threads N`` on the command line;
2. ``OMP_NUM_THREADS`` when the user set it — except the ``1`` that ``torchrun`` puts there on its own for
   ``--nproc_per_node`` > 1 (it cannot be told apart from a user's ``1``; pass ``--threads 1`` to insist);
3. otherwise usable cores ÷ processes on this machine (``LOCAL_WORLD_SIZE`` under torchrun), minus one core per
   data-loader worker of this process (each worker decodes and augments images on a core of its own), at least 1.

OpenCV's thread pool (image resizing in anonymize.py) gets the same number when OpenCV is loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadPlan:
    threads: int
    reason: str

    def describe(self) -> str:
        return f"{self.threads} intra-op thread{'s' if self.threads != 1 else ''} ({self.reason})"


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask: taskset, cgroup cpusets), else all of them."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def torchrun_default(env: Mapping[str, str]) -> bool:
    """True when OMP_NUM_THREADS=1 is most likely torchrun's own default for several local processes."""
    return env.get("OMP_NUM_THREADS") == "1" and "TORCHELASTIC_RUN_ID" in env and local_processes(env) > 1


def local_processes(env: Mapping[str, str]) -> int:
    try:
        return max(1, int(env.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        return 1


def plan_threads(requested: int | None = None, loader_workers: int = 0, env: Mapping[str, str] | None = None,
                 cores: int | None = None) -> ThreadPlan:
    """The number of intra-op threads for this process, and why (see the module docstring)."""
    env = os.environ if env is None else env
    if requested is not None:
        if requested < 1:
            raise ValueError(f"--threads must be at least 1, got {requested}")
        return ThreadPlan(requested, "--threads")
    omp = env.get("OMP_NUM_THREADS", "").strip()
    if omp and not torchrun_default(env):
        try:
            return ThreadPlan(max(1, int(omp)), "OMP_NUM_THREADS")
        except ValueError:
            pass  # a malformed value: OpenMP ignores it too
    cores = usable_cores() if cores is None else cores
    processes = local_processes(env)
    share = max(1, cores // processes)
    threads = max(1, share - max(0, loader_workers))
    reason = f"{cores} usable cores / {processes} local process{'es' if processes != 1 else ''}"
    if loader_workers > 0:
        reason += f" - {loader_workers} data-loader worker{'s' if loader_workers != 1 else ''}"
    return ThreadPlan(threads, reason)


def configure_threads(requested: int | None = None, loader_workers: int = 0) -> ThreadPlan:
    """Apply ``plan_threads`` to torch (and to OpenCV when it is loaded); returns the plan."""
    import torch

    plan = plan_threads(requested, loader_workers)
    torch.set_num_threads(plan.threads)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(plan.threads)
    return plan
