"""Memory Aware Synapses whose importance pass leaves the trained model as it is.

Avalanche 0.6's ``MASPlugin`` computes importances after each training experience with one more pass
over the experience's data in ``train()`` mode: every BatchNorm layer updates its running statistics
with those batches (and dropout is on), so the model that is evaluated afterwards is not the model
that was trained. This subclass runs the pass in ``eval()`` mode under the same formula (mean over
mini-batches of ``|d mean ||f(x)||^2 / d theta|``, trainable parameters only), restores every
module's train/eval flag, clears the gradients it made and leaves weights and buffers untouched. It
also owns its warm start (importances on the source, anchor = the baseline weights).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import device_batches
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import MASPlugin as _AvalancheMAS
    from avalanche.training.utils import ParamData, copy_params_dict, zerolike_params_dict

if TYPE_CHECKING:
    from collections.abc import Callable

    from avalanche.benchmarks import CLExperience
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["MASPlugin", "mas_importance", "gradient_importance"]


def gradient_importance(
    model: nn.Module,
    batches: Iterable[list[torch.Tensor]],
    loss_fn: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
    accumulate: Callable[[torch.Tensor], torch.Tensor],
) -> dict[str, ParamData]:
    """Mean over ``batches`` of ``accumulate(grad of loss_fn(model, x, y))`` per trainable parameter.

    Runs in ``eval()`` mode (BatchNorm statistics and dropout untouched), gives every module back its
    train/eval flag, and leaves no gradient behind. Used by MAS (and EWC's warm start).
    """
    modes = [m.training for m in model.modules()]
    model.eval()
    importances = zerolike_params_dict(model)
    n = 0
    try:
        for batch in batches:
            model.zero_grad(set_to_none=True)
            loss_fn(model, batch[0], batch[1]).backward()
            for name, p in model.named_parameters():
                if p.requires_grad and p.grad is not None:
                    importances[name].data += accumulate(p.grad.detach())
            n += 1
    finally:
        model.zero_grad(set_to_none=True)
        for m, training in zip(model.modules(), modes, strict=True):
            m.training = training
    for imp in importances.values():
        imp.data /= max(n, 1)
    return dict(importances)


def mas_importance(
    model: nn.Module, dataset: AvalancheDataset, batch_size: int, device: torch.device
) -> dict[str, ParamData]:
    """MAS importances of ``model`` on ``dataset`` (Avalanche's formula, ``eval()`` mode)."""
    return gradient_importance(
        model,
        device_batches(dataset, batch_size, device),
        lambda m, x, y: torch.norm(m(x), p="fro", dim=1).pow(2).mean(),
        lambda g: g.abs(),
    )


class MASPlugin(_AvalancheMAS):
    """Avalanche's MAS with an importance pass in ``eval()`` mode (the trained model is evaluated).

    Args:
        lambda_reg: penalty weight (>= 0).
        alpha: weight of the previous importances when updating them (in ``[0, 1]``).

    Example:
        >>> from fer_avalanche.strategies.plugins import MASPlugin
        >>> MASPlugin(lambda_reg=1.0, alpha=0.5).alpha
        0.5
    """

    warm_start_name = "mas"

    def __init__(self, lambda_reg: float = 1.0, alpha: float = 0.5) -> None:
        if isinstance(lambda_reg, bool) or not isinstance(lambda_reg, int | float) or lambda_reg < 0:
            raise ConfigError(f"mas lambda_reg must be >= 0, got {lambda_reg!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 <= alpha <= 1:
            raise ConfigError(f"mas alpha must be in [0, 1], got {alpha!r}")
        super().__init__(lambda_reg=float(lambda_reg), alpha=float(alpha))

    def _get_importance(self, strategy: SupervisedTemplate) -> dict[str, ParamData]:
        if strategy.experience is None or strategy.experience.dataset is None:
            raise ValueError("MAS: the current experience's dataset is not available")
        return mas_importance(
            strategy.model, strategy.experience.dataset, strategy.train_mb_size, strategy.device
        )

    # -------------------------------------------------------------------- plugin contract
    def warm_start(self, strategy: SupervisedTemplate, source_experience: CLExperience) -> None:
        """Importances on the source training data, anchor = the current (baseline) weights."""
        self.importance = mas_importance(
            strategy.model, source_experience.dataset, strategy.train_mb_size, strategy.device
        )
        self.params = dict(copy_params_dict(strategy.model))

    def state_dict(self) -> dict[str, Any]:
        """``{"importance": {name: ParamData}, "params": {name: ParamData}}`` (or ``None`` each)."""
        return {"importance": self.importance, "params": self.params}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.importance, self.params = state["importance"], state["params"]

    def __repr__(self) -> str:
        return f"MASPlugin(lambda_reg={self._lambda}, alpha={self.alpha})"
