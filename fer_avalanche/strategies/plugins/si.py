"""Synaptic Intelligence that works on every device.

Avalanche 0.6's ``SynapticIntelligencePlugin`` snapshots parameters with
``param.detach().cpu().flatten()``. On a CPU device that is a *view* of the live parameter, not a
copy: the "old" and "new" weights of each step are the same tensor, the path integral is always
zero, and the anchor follows the weights, so the penalty is always zero (on CUDA ``.cpu()`` copies,
so it works there). This subclass takes real copies; the algorithm, constants (``c = 1``, importances
clipped at ``0.001``) and state layout are Avalanche's, so :func:`~fer_avalanche.strategies.warm_start`
and Avalanche's own code read the same fields.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SynapticIntelligencePlugin

__all__ = ["SIPlugin", "snapshot_weights"]

_SI = SynapticIntelligencePlugin


@torch.no_grad()
def snapshot_weights(model: nn.Module, target: dict[str, Any], excluded: set[str]) -> None:
    """Copy the SI-eligible parameters of ``model`` (flattened, on the CPU) into ``target[name].data``."""
    for name, param in _SI.allowed_parameters(model, excluded):
        target[name].data = param.detach().flatten().to("cpu", copy=True)


@torch.no_grad()
def snapshot_grads(model: nn.Module, target: dict[str, Any], excluded: set[str]) -> None:
    """Copy the gradients of the SI-eligible parameters into ``target[name].data``."""
    for name, param in _SI.allowed_parameters(model, excluded):
        target[name].data = param.grad.detach().flatten().to("cpu", copy=True)


@torch.no_grad()
def accumulate_trajectory(syn_data: dict[str, Any]) -> None:
    """``trajectory += grad * (new_theta - old_theta)`` (Avalanche's ``post_update`` arithmetic)."""
    for name in syn_data["trajectory"]:
        syn_data["trajectory"][name].data += syn_data["grad"][name].data * (
            syn_data["new_theta"][name].data - syn_data["old_theta"][name].data
        )


class SIPlugin(SynapticIntelligencePlugin):
    """Avalanche's Synaptic Intelligence with parameter snapshots that are copies on every device.

    Args:
        si_lambda: penalty weight (>= 0), or one per experience.
        eps: damping of the importance denominator.

    Example:
        >>> from fer_avalanche.strategies.plugins import SIPlugin
        >>> SIPlugin(si_lambda=1.0).si_lambda
        [1.0]
    """

    def __init__(self, si_lambda: float | list[float] = 1.0, eps: float = 1e-7) -> None:
        lambdas = si_lambda if isinstance(si_lambda, list | tuple) else [si_lambda]
        if not lambdas or any(not isinstance(v, int | float) or v < 0 for v in lambdas):
            raise ConfigError(f"SI si_lambda must be a number >= 0 (or a list of them), got {si_lambda!r}")
        if not isinstance(eps, int | float) or eps <= 0:
            raise ConfigError(f"SI eps must be a number > 0, got {eps!r}")
        super().__init__(si_lambda=si_lambda, eps=float(eps))

    def before_training_exp(self, strategy: Any, **kwargs: Any) -> None:
        _SI.create_syn_data(strategy.model, self.ewc_data, self.syn_data, self.excluded_parameters)
        snapshot_weights(strategy.model, self.ewc_data[0], self.excluded_parameters)  # the anchor
        for trajectory in self.syn_data["trajectory"].values():
            trajectory.data.fill_(0.0)

    def before_training_iteration(self, strategy: Any, **kwargs: Any) -> None:
        snapshot_weights(strategy.model, self.syn_data["old_theta"], self.excluded_parameters)

    def after_training_iteration(self, strategy: Any, **kwargs: Any) -> None:
        snapshot_weights(strategy.model, self.syn_data["new_theta"], self.excluded_parameters)
        snapshot_grads(strategy.model, self.syn_data["grad"], self.excluded_parameters)
        accumulate_trajectory(self.syn_data)

    def after_training_exp(self, strategy: Any, **kwargs: Any) -> None:
        # Avalanche's update reads the final weights itself (a view is harmless there) and copies them.
        _SI.update_ewc_data(
            strategy.model, self.ewc_data, self.syn_data, 0.001, self.excluded_parameters, 1, eps=self.eps
        )
