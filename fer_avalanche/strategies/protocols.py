"""What the runner needs of a strategy and of a plugin, as typing ``Protocol`` s.

- :class:`FERStrategy`: a strategy built by :func:`~fer_avalanche.strategies.make_strategy` (an
  Avalanche ``SupervisedTemplate`` with :class:`~fer_avalanche.strategies.template.FastDataMixin`): its
  model, device and plugins, what it was given (``fer_budget``), what validation saw (``fer_curve``,
  ``fer_selected_epoch``), its row extras, ``train`` and ``eval``;
- :class:`StatefulPlugin`: a plugin whose state a step checkpoint saves (``state_dict`` /
  ``load_state_dict``, :mod:`fer_avalanche.strategies.state`);
- :class:`WarmStartPlugin`: a plugin that prepares itself from the source before the first target
  (``warm_start``, :mod:`fer_avalanche.strategies.warm_start`).

They are structural: any object with these members is one (``isinstance`` works on the runtime-checkable
ones, for members only, not their types).

Example:
    >>> from fer_avalanche.strategies.plugins import BudgetPlugin
    >>> from fer_avalanche.strategies.protocols import StatefulPlugin
    >>> isinstance(BudgetPlugin(epochs=1), StatefulPlugin)
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch

if TYPE_CHECKING:
    from avalanche.benchmarks import CLExperience
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.core import BasePlugin
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["FERStrategy", "StatefulPlugin", "WarmStartPlugin"]


class FERStrategy(Protocol):
    """A strategy as the runner uses it (what :func:`~fer_avalanche.strategies.make_strategy` returns)."""

    model: torch.nn.Module
    device: torch.device
    plugins: list[BasePlugin]
    #: ``"train"`` or ``"mask"`` (``make_strategy(absent_classes=...)``); ``None`` if not set.
    fer_absent_classes: str | None

    @property
    def fer_budget(self) -> dict[str, Any]:
        """``{"steps", "target_passes", "source_samples", "epochs"}`` of the last training experience."""
        ...

    @property
    def fer_curve(self) -> list[dict[str, Any]]:
        """Validation accuracies during the last training experience."""
        ...

    @property
    def fer_selected_epoch(self) -> int | None:
        """The epoch ``select = "best_val"`` restored (``None`` otherwise)."""
        ...

    def fer_row_extras(self, test_sets: Mapping[str, AvalancheDataset]) -> dict[str, Any]:
        """What the strategy's plugins add to a results row."""
        ...

    def train(
        self,
        experiences: CLExperience | Iterable[CLExperience],
        eval_streams: Sequence[CLExperience | Iterable[CLExperience]] | None = None,
        **kwargs: object,
    ) -> object:
        """Train on ``experiences`` (Avalanche's ``train``)."""
        ...

    def eval(self, exp_list: CLExperience | Iterable[CLExperience], **kwargs: object) -> object:
        """Evaluate on ``exp_list`` (Avalanche's ``eval``)."""
        ...


@runtime_checkable
class StatefulPlugin(Protocol):
    """A plugin whose state a step checkpoint saves and restores."""

    def state_dict(self) -> dict[str, Any]:
        """The plugin's state (tensors, numbers, lists, dicts)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        ...


@runtime_checkable
class WarmStartPlugin(Protocol):
    """A plugin that prepares itself from the source experience before the first target."""

    def warm_start(self, strategy: SupervisedTemplate, source_experience: CLExperience) -> None:
        """Prepare from the source's training experience (importances, a teacher, a memory)."""
        ...
