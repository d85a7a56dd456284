"""Re-initialise the model before training: the *retrain from scratch* reading of the paper.

Unlike Avalanche's ``FromScratchTrainingPlugin`` (which re-initialises weights only), this also resets
every BatchNorm's running statistics and clears the optimizer state (Adam moments, SGD momentum), so a
run from scratch carries nothing over from the baseline.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["ResetModelPlugin", "reset_model"]


@torch.no_grad()
def reset_model(model: nn.Module, seed: int | None = None) -> None:
    """Fresh initialisation of every layer of ``model`` in place, BatchNorm running buffers included.

    Calls ``reset_parameters()`` on every submodule that has one and ``reset_running_stats()`` on
    every BatchNorm. With ``seed`` the draw is reproducible and the global RNG is left untouched.
    """
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        for module in model.modules():
            if module is not model or not any(True for _ in model.children()):
                reset = getattr(module, "reset_parameters", None)
                if callable(reset):
                    reset()
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.reset_running_stats()


class ResetModelPlugin(SupervisedPlugin):
    """Re-initialise the model and clear the optimizer state before training.

    The weights are reset in ``before_train_dataset_adaptation`` (before Avalanche builds the
    optimizer; parameters are changed in place, so optimizer references stay valid) and the optimizer
    state is cleared in ``before_training_exp`` (after Avalanche rebuilt it).

    Args:
        every_experience: reset before every training experience (like Avalanche's
            ``FromScratchTrainingPlugin``); ``False`` = only before the first one.
        seed: seed of the initialisation (``None`` = the global RNG).

    Example:
        >>> from fer_avalanche.strategies.plugins import ResetModelPlugin
        >>> ResetModelPlugin(seed=0)
        ResetModelPlugin(every_experience=True, seed=0)
    """

    def __init__(self, every_experience: bool = True, seed: int | None = None) -> None:
        super().__init__()
        if seed is not None and not is_int(seed):
            raise ConfigError(f"ResetModelPlugin seed must be an int or None, got {seed!r}")
        self.every_experience = bool(every_experience)
        self.seed = seed
        self.resets = 0
        self._pending_optimizer_reset = False

    def before_train_dataset_adaptation(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self.resets and not self.every_experience:
            return
        # A stream of its own: a model built right after ``torch.manual_seed(seed)`` must not be redrawn.
        seed = None if self.seed is None else (self.seed * 0x9E3779B1 + 0x5EED + self.resets) % 2**63
        reset_model(strategy.model, seed)
        self.resets += 1
        self._pending_optimizer_reset = True

    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self._pending_optimizer_reset:
            strategy.optimizer.state = defaultdict(dict)
            self._pending_optimizer_reset = False

    # -------------------------------------------------------------------- plugin contract
    def state_dict(self) -> dict[str, Any]:
        """``{"resets": int, "pending_optimizer_reset": bool}``."""
        return {"resets": self.resets, "pending_optimizer_reset": self._pending_optimizer_reset}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.resets = int(state["resets"])
        self._pending_optimizer_reset = bool(state["pending_optimizer_reset"])

    def __repr__(self) -> str:
        return f"ResetModelPlugin(every_experience={self.every_experience}, seed={self.seed})"
