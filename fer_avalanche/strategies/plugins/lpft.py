"""LP-FT (Kumar et al., "Fine-Tuning can Distort Pretrained Features", ICLR 2022): probe, then fine-tune.

:class:`ProbeThenFinetunePlugin` trains the head only for the first ``probe_fraction`` of the
experience's optimizer steps (exactly like ``ft-fc``: :class:`~fer_avalanche.strategies.plugins.FreezePlugin`
freezes ``features`` and ``last_conv``, their BatchNorm statistics included), then unfreezes every
layer and trains the whole network for the rest: one budget in total. The step budget is the
:class:`~fer_avalanche.strategies.plugins.BudgetPlugin`'s ``max_steps`` (or, without a step cap, the
steps its epochs take: ``train_epochs * len(loader)``); ``probe_steps = round(probe_fraction * total)``
and ``finetune_steps = total - probe_steps``. The unfrozen parameters join the optimizer as a new
parameter group with the optimizer's hyper-parameters and fresh state (Adam moments start at zero for
them, as in the paper's second stage).

Example:
    >>> from fer_avalanche.strategies.plugins.lpft import ProbeThenFinetunePlugin, split_steps
    >>> split_steps(96, 0.5)
    (48, 48)
    >>> ProbeThenFinetunePlugin(0.25)
    ProbeThenFinetunePlugin(probe_fraction=0.25, parts=['features', 'last_conv'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fer_avalanche.errors import ConfigError
from fer_avalanche.strategies.plugins.budget import BudgetPlugin
from fer_avalanche.strategies.plugins.freeze import FreezePlugin, freeze_parts

if TYPE_CHECKING:
    from collections.abc import Mapping

    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["ProbeThenFinetunePlugin", "split_steps"]


def split_steps(total: int, probe_fraction: float) -> tuple[int, int]:
    """``(probe_steps, finetune_steps)`` of a budget of ``total`` steps; they sum to ``total``.

    Example:
        >>> split_steps(7, 0.5), split_steps(10, 0.0), split_steps(10, 1.0)
        ((4, 3), (0, 10), (10, 0))
    """
    probe = min(int(total), max(0, int(round(probe_fraction * total + 1e-9))))
    return probe, int(total) - probe


class ProbeThenFinetunePlugin(FreezePlugin):
    """Freeze ``parts`` for the first ``probe_fraction`` of the steps, then train everything.

    Args:
        probe_fraction: share of the step budget that trains the head only, in ``[0, 1]``.
        parts: what the probe freezes (default: everything but the FC head).

    After each training experience :attr:`probe_steps` / :attr:`finetune_steps` are the steps of each
    stage (they sum to the steps taken) and :attr:`split` the planned ``(probe, finetune)`` split.
    """

    def __init__(self, probe_fraction: float = 0.5, parts: Sequence[str] = ("features", "last_conv")) -> None:
        if isinstance(probe_fraction, bool) or not isinstance(probe_fraction, int | float):
            raise ConfigError(f"lp-ft probe_fraction must be a number in [0, 1], got {probe_fraction!r}")
        if not 0.0 <= float(probe_fraction) <= 1.0:
            raise ConfigError(f"lp-ft probe_fraction must be in [0, 1], got {probe_fraction!r}")
        super().__init__(parts)
        self.probe_fraction = float(probe_fraction)
        self.split: tuple[int, int] = (0, 0)
        self.probe_steps = self.finetune_steps = 0
        self._steps = 0
        self._probing = True

    # ------------------------------------------------------------------ hooks
    def before_train_dataset_adaptation(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        """Freeze again at every experience (the previous one ended unfrozen)."""
        self._frozen = freeze_parts(strategy.model, self.parts)
        self._model = strategy.model
        self._probing = True
        self._steps = self.probe_steps = self.finetune_steps = 0
        self.split = (0, 0)

    def before_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if self._steps == 0:
            self.split = split_steps(self._total_steps(strategy), self.probe_fraction)
        if self._probing and self._steps >= self.split[0]:
            self._unfreeze(strategy)
        super().before_training_iteration(strategy, **kwargs)

    def after_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._steps += 1
        if self._probing:
            self.probe_steps += 1
        else:
            self.finetune_steps += 1

    def row_extras(
        self, strategy: SupervisedTemplate, test_sets: Mapping[str, AvalancheDataset]
    ) -> dict[str, Any]:
        """``{"lp_ft": {"probe_fraction", "probe_steps", "finetune_steps"}}`` for a results row."""
        return {
            "lp_ft": {
                "probe_fraction": self.probe_fraction,
                "probe_steps": self.probe_steps,
                "finetune_steps": self.finetune_steps,
            }
        }

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _total_steps(strategy: SupervisedTemplate) -> int:
        for plugin in strategy.plugins:
            if isinstance(plugin, BudgetPlugin) and plugin._limit is not None:
                return int(plugin._limit)
        return int(strategy.train_epochs) * max(len(strategy.dataloader), 1)

    def _unfreeze(self, strategy: SupervisedTemplate) -> None:
        optimizer = strategy.optimizer
        in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
        added = []
        for module in self._frozen:
            module.train(strategy.model.training)
            for p in module.parameters():
                p.requires_grad_(True)
                if id(p) not in in_optimizer:
                    added.append(p)
                    in_optimizer.add(id(p))
        if added:
            if len(optimizer.param_groups) == 1 and not optimizer.param_groups[0]["params"]:
                optimizer.param_groups[0]["params"] = added
            else:
                optimizer.add_param_group({"params": added})
        if getattr(strategy, "optimized_param_id", None) is not None:
            strategy.optimized_param_id = dict(strategy.model.named_parameters())
        self._frozen = []
        self._probing = False

    def __repr__(self) -> str:
        return f"ProbeThenFinetunePlugin(probe_fraction={self.probe_fraction}, parts={list(self.parts)})"
