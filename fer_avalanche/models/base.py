"""What every architecture of the package shares: named parts and a fresh re-initialisation."""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["FERModel", "PART_NAMES"]

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

    def forward(self, x: Any) -> Any:
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
