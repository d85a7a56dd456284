"""Synaptic Intelligence that works on every device.

Avalanche 0.6's ``SynapticIntelligencePlugin`` snapshots parameters with
``param.detach().cpu().flatten()``. On a CPU device that is a *view* of the live parameter, not a
copy: the "old" and "new" weights of each step are the same tensor, the path integral is always
zero, and the anchor follows the weights, so the penalty is always zero (on CUDA ``.cpu()`` copies,
so it works there). This subclass takes real copies; the algorithm, constants (``c = 1``, importances
clipped at ``0.001``) and state layout are Avalanche's, so Avalanche's own code reads the same fields.

Warm start (:meth:`SIPlugin.warm_start`): SI measures importance along the training trajectory, which
happened outside the strategy (the baseline). It is estimated from a *continuation*: a throw-away copy
of the baseline trains ``warm_start_epochs`` epoch(s) on the source with the strategy's optimizer
settings, the path integral ``-sum g * dtheta`` is accumulated exactly as Avalanche does, importances are
clipped to ``[0, 0.001]`` (Avalanche clips only above), and the anchor is the baseline's weights. The
strategy's model is not changed.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import device_batches
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SynapticIntelligencePlugin

if TYPE_CHECKING:
    from avalanche.benchmarks import CLExperience
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["SIPlugin", "snapshot_weights", "warm_start_si"]

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


def warm_start_si(
    plugin: SynapticIntelligencePlugin,
    strategy: SupervisedTemplate,
    dataset: AvalancheDataset,
    epochs: int = 1,
) -> None:
    """SI importances of any SI plugin from a throw-away continuation on ``dataset`` (module docstring)."""
    model = strategy.model
    excluded = plugin.excluded_parameters
    _SI.create_syn_data(model, plugin.ewc_data, plugin.syn_data, excluded)
    snapshot_weights(model, plugin.ewc_data[0], excluded)
    for trajectory in plugin.syn_data["trajectory"].values():
        trajectory.data.fill_(0.0)
    shadow = copy.deepcopy(model).train()
    trainable = [p for p in shadow.parameters() if p.requires_grad]
    optimizer = type(strategy.optimizer)(trainable, **strategy.optimizer.defaults)
    criterion = strategy._criterion
    for epoch in range(epochs):
        for batch in device_batches(
            dataset, strategy.train_mb_size, strategy.device, shuffle=True, seed=epoch
        ):
            snapshot_weights(shadow, plugin.syn_data["old_theta"], excluded)
            optimizer.zero_grad(set_to_none=True)
            criterion(shadow(batch[0]), batch[1]).backward()
            optimizer.step()
            snapshot_weights(shadow, plugin.syn_data["new_theta"], excluded)
            snapshot_grads(shadow, plugin.syn_data["grad"], excluded)
            accumulate_trajectory(plugin.syn_data)
    _SI.update_ewc_data(shadow, plugin.ewc_data, plugin.syn_data, 0.001, excluded, 1, eps=plugin.eps)
    for imp in plugin.ewc_data[1].values():
        imp.data = imp.data.clamp(min=0.0)
    snapshot_weights(model, plugin.ewc_data[0], excluded)  # anchor: the baseline, not the shadow


class SIPlugin(SynapticIntelligencePlugin):
    """Avalanche's Synaptic Intelligence with parameter snapshots that are copies on every device.

    Args:
        si_lambda: penalty weight (>= 0), or one per experience.
        eps: damping of the importance denominator.
        warm_start_epochs: epochs of the source continuation that estimates importances at warm start.

    Example:
        >>> from fer_avalanche.strategies.plugins import SIPlugin
        >>> SIPlugin(si_lambda=1.0).si_lambda
        [1.0]
    """

    warm_start_name = "si"

    def __init__(
        self, si_lambda: float | list[float] = 1.0, eps: float = 1e-7, warm_start_epochs: int = 1
    ) -> None:
        lambdas = si_lambda if isinstance(si_lambda, list | tuple) else [si_lambda]
        if not lambdas or any(not isinstance(v, int | float) or v < 0 for v in lambdas):
            raise ConfigError(f"SI si_lambda must be a number >= 0 (or a list of them), got {si_lambda!r}")
        if not isinstance(eps, int | float) or eps <= 0:
            raise ConfigError(f"SI eps must be a number > 0, got {eps!r}")
        if not is_int(warm_start_epochs) or warm_start_epochs < 1:
            raise ConfigError(f"SI warm_start_epochs must be an int >= 1, got {warm_start_epochs!r}")
        super().__init__(si_lambda=si_lambda, eps=float(eps))
        self.warm_start_epochs = warm_start_epochs

    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        _SI.create_syn_data(strategy.model, self.ewc_data, self.syn_data, self.excluded_parameters)
        snapshot_weights(strategy.model, self.ewc_data[0], self.excluded_parameters)  # the anchor
        for trajectory in self.syn_data["trajectory"].values():
            trajectory.data.fill_(0.0)

    def before_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        snapshot_weights(strategy.model, self.syn_data["old_theta"], self.excluded_parameters)

    def after_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        snapshot_weights(strategy.model, self.syn_data["new_theta"], self.excluded_parameters)
        snapshot_grads(strategy.model, self.syn_data["grad"], self.excluded_parameters)
        accumulate_trajectory(self.syn_data)

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        # Avalanche's update reads the final weights itself (a view is harmless there) and copies them.
        _SI.update_ewc_data(
            strategy.model, self.ewc_data, self.syn_data, 0.001, self.excluded_parameters, 1, eps=self.eps
        )

    # -------------------------------------------------------------------- plugin contract
    def warm_start(self, strategy: SupervisedTemplate, source_experience: CLExperience) -> None:
        """Importances from a continuation on the source; anchor = the baseline (module docstring)."""
        warm_start_si(self, strategy, source_experience.dataset, self.warm_start_epochs)

    def state_dict(self) -> dict[str, Any]:
        """``{"ewc_data": (anchors, importances), "syn_data": {...}}`` as Avalanche lays them out."""
        return {"ewc_data": self.ewc_data, "syn_data": self.syn_data}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.ewc_data, self.syn_data = state["ewc_data"], state["syn_data"]
