"""Learning without Forgetting with a frozen teacher in ``eval()`` mode.

Avalanche's ``LwFPlugin`` deep-copies the model at the end of an experience while it is in training
mode, so the teacher's forward passes use batch statistics and dropout and keep updating the
teacher's BatchNorm running statistics with new-domain batches. This subclass keeps the teacher in
``eval()`` mode with ``requires_grad=False``: the distillation targets are the previous model's real
predictions. Everything else (loss, ``alpha``/``temperature``, seen-class bookkeeping) is Avalanche's.
"""

from __future__ import annotations

from typing import Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import LwFPlugin

__all__ = ["FrozenTeacherLwFPlugin", "freeze_teacher"]


def freeze_teacher(plugin: LwFPlugin) -> None:
    """Put an ``LwFPlugin``'s previous model (if any) in ``eval()`` mode without gradients."""
    teacher = plugin.lwf.prev_model
    if teacher is not None:
        teacher.eval()
        for p in teacher.parameters():
            p.requires_grad_(False)


class FrozenTeacherLwFPlugin(LwFPlugin):
    """Avalanche's LwF with the previous model frozen in ``eval()`` mode.

    Args:
        alpha: distillation weight (> 0), or one weight per experience.
        temperature: softmax temperature (> 0).

    Example:
        >>> from fer_avalanche.strategies.plugins import FrozenTeacherLwFPlugin
        >>> FrozenTeacherLwFPlugin(alpha=1.0, temperature=2.0).lwf.temperature
        2.0
    """

    def __init__(self, alpha: float | list[float] = 1.0, temperature: float = 2.0) -> None:
        alphas = alpha if isinstance(alpha, list | tuple) else [alpha]
        if not alphas or any(not isinstance(a, int | float) or a < 0 for a in alphas):
            raise ConfigError(f"LwF alpha must be a number >= 0 (or a list of them), got {alpha!r}")
        if not isinstance(temperature, int | float) or temperature <= 0:
            raise ConfigError(f"LwF temperature must be a number > 0, got {temperature!r}")
        super().__init__(alpha=alpha, temperature=float(temperature))

    def after_training_exp(self, strategy: Any, **kwargs: Any) -> None:
        super().after_training_exp(strategy, **kwargs)
        freeze_teacher(self)
