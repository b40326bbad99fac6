"""ImagePool: pass-through, fill then swap, determinism, state round trip, variable-size crops."""

from __future__ import annotations

import io

import pytest
import torch

from util.image_pool import ImagePool


def _batch(start: int, n: int = 1) -> torch.Tensor:
    """Images whose every value is their id, so outputs can be traced back to inputs."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, 2, 2).clone()


def _ids(out: torch.Tensor | list[torch.Tensor]) -> list[int]:
    return [int(t.flatten()[0]) for t in out]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_size_zero_is_identity():
    pool = ImagePool(0, _gen())
    batch = _batch(0, 3)
    assert pool.query(batch) is batch
    crops = [torch.zeros(3, 2, 2)]
    assert pool.query(crops) is crops
    assert len(pool) == 0


def test_fills_then_swaps_half_the_time():
    pool = ImagePool(4, _gen(1))
    assert _ids(pool.query(_batch(0, 4))) == [0, 1, 2, 3] and len(pool) == 4
    seen_old = 0
    for i in range(4, 404):
        out = _ids(pool.query(_batch(i)))[0]
        assert out == i or out < i  # either passed through or an older stored image
        seen_old += out != i
        assert len(pool) == 4
    assert 150 < seen_old < 250  # 50% chance, 400 draws
    # Everything stored was once an input, and distinct.
    stored = _ids(pool.images)
    assert len(set(stored)) == 4 and all(0 <= s < 404 for s in stored)


def test_outputs_are_detached_and_keep_batch_shape():
    pool = ImagePool(2, _gen())
    x = _batch(0, 3).requires_grad_()
    out = pool.query(x * 1)
    assert out.shape == x.shape and not out.requires_grad


def _trace(pool: ImagePool, start: int, n: int) -> list[int]:
    return [_ids(pool.query(_batch(i)))[0] for i in range(start, start + n)]


def test_deterministic_under_same_seed():
    assert _trace(ImagePool(3, _gen(7)), 0, 50) == _trace(ImagePool(3, _gen(7)), 0, 50)
    assert _trace(ImagePool(3, _gen(7)), 0, 50) != _trace(ImagePool(3, _gen(8)), 0, 50)


def test_state_dict_round_trip_gives_identical_future():
    pool = ImagePool(3, _gen(3))
    _trace(pool, 0, 20)
    buffer = io.BytesIO()
    torch.save(pool.state_dict(), buffer)
    buffer.seek(0)
    restored = ImagePool(3, _gen(999))
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert _trace(restored, 20, 40) == _trace(pool, 20, 40)
    assert all(torch.equal(a, b) for a, b in zip(restored.images, pool.images, strict=True))
    with pytest.raises(ValueError):
        ImagePool(5).load_state_dict(pool.state_dict())


def test_variable_size_list():
    pool = ImagePool(2, _gen(5))
    sizes = [(3, 4, 5), (3, 6, 2), (3, 3, 3), (3, 7, 7), (3, 1, 9), (3, 5, 5)]
    for i, size in enumerate(sizes):
        crop = torch.full(size, float(i))
        [out] = pool.query([crop])
        # Whatever comes back is an intact earlier (or the current) crop with its own size.
        j = int(out.flatten()[0])
        assert j <= i and tuple(out.shape) == sizes[j] and (out == j).all()
    assert len(pool) == 2
