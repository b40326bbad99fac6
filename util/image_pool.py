"""History buffer of generated images for discriminator updates (Shrivastava et al. 2017), as the original.

Randomness comes from the pool's own ``torch.Generator``, so a run is reproducible from its seed and a resumed
run continues bit-identically once the pool's ``state_dict()`` (stored images, generator state) is restored.
"""

from __future__ import annotations

from typing import Any, TypeVar

import torch

Images = TypeVar("Images", torch.Tensor, list[torch.Tensor])


class ImagePool:
    """Size 0 passes images through; otherwise it fills up, then with 50% chance swaps in a stored image.

    ``query`` accepts a batch tensor (N×C×H×W, processed image by image) or a list of tensors that may differ
    in size (person crops); it returns the same kind.  Returned images are detached: the pool feeds D only.
    """

    def __init__(self, pool_size: int, rng: torch.Generator | None = None) -> None:
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0, got {pool_size}")
        self.pool_size = pool_size
        if rng is None:
            # Deterministic under torch.manual_seed without consuming draws from the global stream.
            rng = torch.Generator().manual_seed(torch.initial_seed())
        self.rng = rng
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def _query_one(self, image: torch.Tensor) -> torch.Tensor:
        image = image.detach()
        if len(self.images) < self.pool_size:
            self.images.append(image.clone())
            return image
        if torch.rand(1, generator=self.rng).item() > 0.5:
            idx = int(torch.randint(0, self.pool_size, (1,), generator=self.rng).item())
            stored = self.images[idx]
            self.images[idx] = image.clone()
            # A restored pool lives on the CPU; hand the image back where the caller's images are.
            return stored.to(image.device)
        return image

    def query(self, images: Images) -> Images:
        if self.pool_size == 0:
            return images
        if isinstance(images, torch.Tensor):
            return torch.cat([self._query_one(image.unsqueeze(0)) for image in images], dim=0)
        return [self._query_one(image) for image in images]

    def state_dict(self) -> dict[str, Any]:
        """Pool size, stored images (CPU), generator state; loads with ``torch.load(weights_only=True)``."""
        return {
            "pool_size": self.pool_size,
            "images": [image.cpu() for image in self.images],
            "rng_state": self.rng.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["pool_size"] != self.pool_size:
            raise ValueError(f"pool state has pool_size {state['pool_size']}, this pool has {self.pool_size}")
        self.images = [image.clone() for image in state["images"]]
        self.rng.set_state(state["rng_state"])
