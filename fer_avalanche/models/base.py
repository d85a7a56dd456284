"""What every architecture of the package shares: named parts and a fresh re-initialisation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from fer_avalanche.errors import CheckpointError

__all__ = ["FERModel", "PART_NAMES", "load_weights"]

#: Names of a model's freezable parts, input to output: every architecture has exactly these children.
PART_NAMES: tuple[str, ...] = ("features", "last_conv", "classifier")


class FERModel(nn.Module):
    """Base class of the architectures: children ``features``, ``last_conv``, ``classifier``.

    Strategies freeze by these names (``ft-fc`` freezes ``features`` and ``last_conv``; ``ft-lastconv-fc``
    freezes ``features``), so every architecture works with every strategy. ``config`` records the
    arguments the model was built with (``arch`` included), so a checkpoint says what it holds.
    """

    features: nn.Module
    last_conv: nn.Module
    classifier: nn.Module
    config: dict[str, Any]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` for float images ``[B, 1, H, W]``."""
        return self.classifier(self.last_conv(self.features(x)))

    def reset_parameters(self) -> None:
        """Fresh initialisation of every layer, BatchNorm running statistics included."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


def load_weights(model: nn.Module, state: Mapping[str, torch.Tensor], origin: str = "") -> nn.Module:
    """Put a ``state_dict`` back into ``model`` (strict); a mismatch is a :class:`CheckpointError`.

    The error names ``origin`` (the file). The one place a saved network's weights are loaded.

    Example:
        >>> from torch import nn
        >>> load_weights(  # doctest: +ELLIPSIS
        ...     nn.Linear(2, 1), nn.Linear(2, 3).state_dict(), "w.pt")
        Traceback (most recent call last):
        ...
        fer_avalanche.errors.CheckpointError: w.pt: checkpoint does not match the model (...)
    """
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        prefix = f"{origin}: " if origin else ""
        raise CheckpointError(f"{prefix}checkpoint does not match the model ({first})") from None
    return model
