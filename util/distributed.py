"""Process-group and rank helpers for ``torchrun`` training (one process per GPU, or gloo processes on the CPU).

A run is distributed only when torchrun launched it (``RANK`` and ``WORLD_SIZE`` in the environment); otherwise
every helper answers as the single process of a world of one, so the single-process code path is unchanged.

Gradients are averaged explicitly (``all_reduce_gradients``, one flattened all-reduce per optimizer step) instead
of through ``DistributedDataParallel`` wrappers: the GAN iteration calls each discriminator several times per
update, freezes it during the generator update, reuses one generator forward for three backward passes and
takes a double backward for the WGAN-GP penalty; DDP's reducer assumes one forward per backward per wrapper
(the approach StyleGAN2-ADA takes for the same reasons).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

# Rank 0 validates, writes HTML and checkpoints while the others wait in a collective; NCCL's default
# 10-minute watchdog would kill a long FID run.
PROCESS_GROUP_TIMEOUT = timedelta(hours=2)

# A group holding rank 0 only: SyncBatchNorm layers use it during rank-0-only forwards (validation, visuals),
# where syncing with ranks that are not running the forward would hang.
_RANK0_GROUP: Any = None


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    return rank() == 0


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def init_distributed(use_cuda: bool) -> bool:
    """Join the torchrun process group (nccl on CUDA, gloo on the CPU); False when not launched by torchrun.

    On CUDA each process takes the GPU of its local rank (so ``--gpu_ids`` is ignored under torchrun).
    """
    global _RANK0_GROUP
    if not launched_by_torchrun() or is_distributed():
        return is_distributed()
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend, timeout=PROCESS_GROUP_TIMEOUT)
    _RANK0_GROUP = dist.new_group([0])  # collective: every rank creates it
    return True


def destroy_distributed() -> None:
    global _RANK0_GROUP
    if is_distributed():
        dist.destroy_process_group()
    _RANK0_GROUP = None


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def rank_seed(seed: int, process_rank: int | None = None) -> int:
    """The seed of a rank's random streams: rank 0 keeps ``seed`` (so a single process is unchanged), other
    ranks get independent streams derived from (seed, rank)."""
    process_rank = rank() if process_rank is None else process_rank
    if process_rank == 0:
        return seed
    return int(np.random.SeedSequence([seed, process_rank]).generate_state(1, dtype=np.uint32)[0])


def resume_seed(seed: int, process_rank: int, iterations_done: int) -> int:
    """Fresh streams for a rank that a resumed state has none for (its run had fewer ranks)."""
    return int(np.random.SeedSequence([seed, process_rank, iterations_done]).generate_state(1, dtype=np.uint32)[0])


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is True on at least one (collective; ``flag`` itself in one process)."""
    if world_size() == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def all_reduce_gradients(parameters: Iterable[nn.Parameter]) -> None:
    """Average the gradients over all ranks: one flattened all-reduce (parameters without a gradient skipped;
    every rank has the same ones, since every rank runs the same update)."""
    if world_size() == 1:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def broadcast_tensors(tensors: list[torch.Tensor]) -> None:
    """Overwrite ``tensors`` in place with rank 0's values: one flattened broadcast per dtype."""
    if world_size() == 1:
        return
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for tensor in tensors:
        by_dtype.setdefault(tensor.dtype, []).append(tensor)
    for group in by_dtype.values():
        flat = torch.cat([t.reshape(-1) for t in group])
        dist.broadcast(flat, src=0)
        offset = 0
        for tensor in group:
            tensor.copy_(flat[offset:offset + tensor.numel()].view_as(tensor))
            offset += tensor.numel()


def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers (BatchNorm statistics) to every rank."""
    with torch.no_grad():
        broadcast_tensors([p.data for p in module.parameters()] + list(module.buffers()))


def gather_to_main(obj: Any) -> list[Any] | None:
    """Every rank's ``obj`` as a list on rank 0 (None elsewhere); [obj] in a single process. Collective."""
    if world_size() == 1:
        return [obj]
    gathered: list[Any] | None = [None] * world_size() if is_main_process() else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered


def sync_batchnorm_possible(on_cuda: bool) -> str:
    """'' when ``--sync_bn`` can work here, else why not (SyncBatchNorm's forward refuses CPU tensors)."""
    if not on_cuda:
        return "SyncBatchNorm only runs on GPUs (torch raises for CPU tensors under gloo); drop --sync_bn on the CPU"
    return ""


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """BatchNorm -> SyncBatchNorm (same Parameter objects, so the optimizers need no rebuild)."""
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


@contextmanager
def main_process_only_forward(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Forwards run by rank 0 alone (validation, visuals): SyncBatchNorm layers normalise locally meanwhile."""
    layers = [m for module in modules for m in module.modules() if isinstance(m, nn.SyncBatchNorm)]
    if not layers or not is_distributed():
        yield
        return
    saved = [layer.process_group for layer in layers]
    for layer in layers:
        layer.process_group = _RANK0_GROUP  # a world of one: SyncBatchNorm skips the sync
    try:
        yield
    finally:
        for layer, group in zip(layers, saved, strict=True):
            layer.process_group = group
