"""Retrieval Lens for PyTorch: the trainer (`python -m retrieval_lens.train`), the paper's losses as modules
(`retrieval_lens.losses`) and a run logger for any training loop (`retrieval_lens.Lens`)."""

from typing import Any

__all__ = ["Lens", "AdaptiveSoftmaxLoss", "AdaptiveMarginLoss", "SoftmaxLoss", "MarginLoss", "AdapTauSoftmaxLoss"]  # noqa: F822  # pyright: ignore[reportUnsupportedDunderAll]  (lazy exports: __getattr__ below)


def __getattr__(name: str) -> Any:
    """Lazy exports: importing retrieval_lens.config (the launcher, config checks) does not import torch."""
    if name == "Lens":
        from .lens import Lens

        return Lens
    if name in ("AdaptiveSoftmaxLoss", "AdaptiveMarginLoss", "SoftmaxLoss", "MarginLoss", "AdapTauSoftmaxLoss"):
        from . import losses

        return getattr(losses, name)
    raise AttributeError(f"module 'retrieval_lens' has no attribute {name!r}")
