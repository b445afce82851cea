"""The collectives the trainer and the loss modules use across the ranks of a torch.distributed job (a
single process: every collective is the identity). A collective that fails because a peer died or its
connection broke raises PeerLost."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


class PeerLost(Exception):
    """A collective failed: another rank died or its connection broke."""


class Collectives:
    """`world` ranks, this one `rank`, on `device`; `Collectives.current()` is the initialised process group."""

    def __init__(self, world: int = 1, rank: int = 0, device: Optional[torch.device] = None):
        self.world, self.rank, self.device = world, rank, device if device is not None else torch.device("cpu")

    @staticmethod
    def current(device: torch.device) -> "Collectives":
        """The default process group when torch.distributed is initialised, else one process."""
        if dist.is_available() and dist.is_initialized():
            return Collectives(dist.get_world_size(), dist.get_rank(), device)
        return Collectives(1, 0, device)

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except RuntimeError as e:
            raise PeerLost(str(e).splitlines()[0] if str(e) else type(e).__name__) from e

    def sum(self, values: List[float]) -> List[float]:
        """Element-wise sum over the ranks (float64)."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        self._guard(dist.all_reduce, t)
        return [float(x) for x in t.tolist()]

    def any(self, flag: bool) -> bool:
        return self.sum([1.0 if flag else 0.0])[0] > 0

    def gather_items(self, local: torch.Tensor) -> torch.Tensor:
        """All ranks' rows, rank order; the gradient of every use flows back to this rank's shard."""
        if self.world == 1:
            return local
        from torch.distributed.nn.functional import all_gather

        return torch.cat(self._guard(all_gather, local), 0)

    def gather_objects(self, obj: Any) -> List[Any]:
        if self.world == 1:
            return [obj]
        out: List[Any] = [None] * self.world
        self._guard(dist.all_gather_object, out, obj)
        return out
