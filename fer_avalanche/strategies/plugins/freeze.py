"""Freeze named parts of the model for fine-tuning (the paper's *FC* and *FC + last conv* strategies).

Freezing has three parts, each needed on Avalanche 0.6 (see ``DESIGN.md``):

1. ``requires_grad=False`` on every parameter of the frozen parts, set in
   ``before_train_dataset_adaptation`` (before Avalanche builds the optimizer);
2. Avalanche's ``make_optimizer`` re-adds **every** model parameter to the optimizer, so in
   ``before_training_exp`` (which runs after it) the optimizer's parameter groups are rebuilt with the
   trainable parameters only; hyper-parameters are kept, the state of frozen parameters dropped;
3. the frozen parts are put back in ``eval()`` mode before every epoch and iteration (Avalanche calls
   ``model.train()``), so BatchNorm running statistics do not move and dropout is off in them.

Frozen parameters are therefore bit-identical after training and absent from ``strategy.optimizer``.
The freezing is permanent on the model object: build each strategy on its own copy of the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["FreezePlugin", "freeze_parts"]


def freeze_parts(model: nn.Module, parts: Sequence[str]) -> list[nn.Module]:
    """Set ``requires_grad=False`` on the named submodules of ``model`` and return them.

    Args:
        model: any module.
        parts: names as in ``model.named_modules()`` (``"features"``, ``"classifier.1"``).

    Raises:
        ConfigError: a name that is not a submodule of ``model`` (the message lists the valid
            top-level names).
    """
    modules = dict(model.named_modules())
    unknown = [p for p in parts if p not in modules or p == ""]
    if unknown:
        top = [name for name, _ in model.named_children()]
        raise ConfigError(
            f"cannot freeze {unknown}: not submodules of {type(model).__name__}; valid top-level names: "
            f"{top} (or any dotted name from model.named_modules())"
        )
    frozen = [modules[p] for p in parts]
    for module in frozen:
        for param in module.parameters():
            param.requires_grad_(False)
    return frozen


class FreezePlugin(SupervisedPlugin):
    """Freeze the named submodules: no gradient, not in the optimizer, BatchNorm statistics fixed.

    Args:
        parts: submodule names as in ``model.named_modules()``; for :class:`~fer_avalanche.models.FERNet`
            ``["features", "last_conv"]`` trains only the FC head, ``["features"]`` the last conv + FC.

    Raises:
        ConfigError: ``parts`` empty or not strings (here), or naming no submodule of the model (at the
            first training experience).

    Example:
        >>> from fer_avalanche.strategies.plugins import FreezePlugin
        >>> plugin = FreezePlugin(["features", "last_conv"])
        >>> plugin.parts
        ('features', 'last_conv')
    """

    def __init__(self, parts: Sequence[str]) -> None:
        super().__init__()
        if isinstance(parts, str):
            parts = [parts]
        parts = tuple(parts)
        if not parts:
            raise ConfigError("FreezePlugin needs at least one part name to freeze, got none")
        bad = [p for p in parts if not isinstance(p, str) or not p]
        if bad:
            raise ConfigError(f"FreezePlugin part names must be non-empty strings, got {bad}")
        self.parts: tuple[str, ...] = parts
        self._frozen: list[nn.Module] = []
        self._model: nn.Module | None = None

    # ------------------------------------------------------------------ hooks
    def before_train_dataset_adaptation(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        """Freeze (once per model object) before Avalanche builds the optimizer."""
        if strategy.model is not self._model:
            self._frozen = freeze_parts(strategy.model, self.parts)
            self._model = strategy.model

    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        """Drop frozen parameters (and their state) from the optimizer Avalanche just rebuilt."""
        optimizer: torch.optim.Optimizer = strategy.optimizer
        for group in optimizer.param_groups:
            kept = [p for p in group["params"] if p.requires_grad]
            for p in group["params"]:
                if not p.requires_grad:
                    optimizer.state.pop(p, None)
            group["params"] = kept
        optimizer.param_groups[:] = [g for g in optimizer.param_groups if g["params"]] or [
            {**optimizer.param_groups[0], "params": []}
        ]
        if getattr(strategy, "optimized_param_id", None) is not None:
            strategy.optimized_param_id = {
                n: p for n, p in strategy.model.named_parameters() if p.requires_grad
            }
        self._set_eval()

    def before_training_epoch(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._set_eval()

    def before_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        # Cheap guard: a periodic evaluation inside the epoch ends with ``model.train()``.
        if any(m.training for m in self._frozen):
            self._set_eval()

    # -------------------------------------------------------------------- plugin contract
    def state_dict(self) -> dict[str, Any]:
        """Nothing to carry: the (restored) model is re-frozen on the next experience."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore (see :meth:`state_dict`)."""

    # ---------------------------------------------------------------- helpers
    def _set_eval(self) -> None:
        for module in self._frozen:
            module.eval()

    def __repr__(self) -> str:
        return f"FreezePlugin(parts={list(self.parts)})"
