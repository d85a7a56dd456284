"""Count what a strategy was given (optimizer steps, passes over the target, source samples) and cap it.

A fair comparison of strategies states every strategy's budget (PROTOCOL.md). :class:`BudgetPlugin`
counts, for each training experience:

- ``steps``: optimizer steps (Avalanche's clock, ``train_exp_iterations``, agrees by construction);
- ``target_passes``: samples of the experience's *own* training dataset seen, divided by its size
  (for ``JointTraining``, trained once on ``[source, t1, ..., tk]``, the own dataset is the last
  experience's, ``tk``: the target);
- ``source_samples``: every other sample seen: a rehearsal buffer, fusion's source, the memory batch
  DER appends, A-GEM's reference batch;
- ``epochs``: epochs started.

The composition of a batch is read from the indices the loader drew (``loader.last_composition`` of
:class:`~fer_avalanche.loaders.DeviceBatchLoader` / :class:`~fer_avalanche.loaders.MixedBatchLoader`,
CPU integers), never from the device: counting costs no host sync. A loader that is not ours is
counted as all-own.

Caps (at most one):

- ``max_steps=S``: exactly ``S`` optimizer steps per training experience, whatever the loader; the
  plugin sets ``strategy.train_epochs = ceil(S / len(loader))`` once the loader is built and calls
  ``strategy.stop_training()`` after step ``S``;
- ``epoch_steps=True`` (the scenario's ``budget = "steps"`` without ``steps``): a step cap derived per
  experience when its training starts, what ``epochs`` epochs over the experience's own training data
  alone take: ``epochs * ceil(n_own / strategy.train_mb_size)`` (the ceiling, also where the loader
  drops a last batch of one sample; the plugin then trains the extra epoch it needs), so every
  strategy gets the steps of plain fine-tuning, and each target of a sequence its own;
- ``target_passes=P``: train until the own data was seen ``P`` times, converted to steps per mixing
  mode: a loader over the experience alone or over a concatenation (fusion/replay ``mix="concat"``,
  joint, GDumb's memory) trains ``P`` epochs (``ceil(P * len(loader))`` steps: ``P`` passes over the
  union); a :class:`~fer_avalanche.loaders.MixedBatchLoader` trains
  ``ceil(P * n_target / (target_fraction * batch_size))`` steps.

Without a cap the strategy trains its ``epochs`` (``epochs`` given here restores them on every
experience). ``strategy.fer_budget`` / ``strategy.fer_budgets`` (see
:class:`~fer_avalanche.strategies.template.FastDataMixin`) read :attr:`BudgetPlugin.records`.

Example:
    >>> from fer_avalanche.strategies.plugins import BudgetPlugin
    >>> BudgetPlugin(epochs=5, max_steps=200)
    BudgetPlugin(epochs=5, max_steps=200, target_passes=None)
    >>> BudgetPlugin(epochs=2, epoch_steps=True).steps_for(131, batch_size=32)  # 2 * ceil(131 / 32)
    10
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from fer_avalanche.checks import is_int
from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import DeviceBatchLoader, MixedBatchLoader, gather_tensors
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import AGEMPlugin, SupervisedPlugin
    from avalanche.training.supervised import JointTraining

if TYPE_CHECKING:
    from collections.abc import Sized

    from avalanche.benchmarks import CLExperience
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["BudgetPlugin", "current_target", "ZERO_BUDGET"]

#: The budget of a strategy that never trained (``baseline``).
ZERO_BUDGET: dict[str, Any] = {"steps": 0, "target_passes": 0.0, "source_samples": 0, "epochs": 0}


def current_target(strategy: SupervisedTemplate) -> CLExperience:
    """The experience whose data is the strategy's *own* in this training experience.

    ``strategy.experience``, except for ``JointTraining`` (one experience over the union of
    ``[source, t1, ..., tk]``): the last of them.
    """
    if isinstance(strategy, JointTraining) and getattr(strategy, "_experiences", None):
        return strategy._experiences[-1]
    return strategy.experience


class BudgetPlugin(SupervisedPlugin):
    """Count steps, target passes and source samples per training experience; stop at a cap.

    Args:
        epochs: the strategy's epochs (the budget when there is no cap).
        max_steps: exactly this many optimizer steps per training experience.
        target_passes: train until the experience's own data was seen this often (> 0).
        epoch_steps: a step cap per experience of ``epochs`` epochs over its own data alone
            (:meth:`steps_for`).

    Raises:
        ConfigError: two caps, or a bad value.

    Put it after every plugin that replaces ``strategy.dataloader`` in ``before_training_exp``
    (``make_strategy`` puts it last).
    """

    def __init__(
        self,
        epochs: int,
        max_steps: int | None = None,
        target_passes: float | None = None,
        epoch_steps: bool = False,
    ) -> None:
        super().__init__()
        if not is_int(epochs) or epochs < 1:
            raise ConfigError(f"epochs must be an int >= 1, got {epochs!r}")
        if max_steps is not None and (not is_int(max_steps) or max_steps < 1):
            raise ConfigError(f"max_steps must be an int >= 1 or None, got {max_steps!r}")
        if target_passes is not None and (
            isinstance(target_passes, bool)
            or not isinstance(target_passes, int | float)
            or target_passes <= 0
        ):
            raise ConfigError(f"target_passes must be a number > 0 or None, got {target_passes!r}")
        if not isinstance(epoch_steps, bool):
            raise ConfigError(f"epoch_steps must be True or False, got {epoch_steps!r}")
        caps = {"max_steps": max_steps, "target_passes": target_passes, "epoch_steps": epoch_steps or None}
        given = [f"{k} ({v})" for k, v in caps.items() if v is not None]
        if len(given) > 1:
            raise ConfigError(f"give one training budget, {' or '.join(given)}, not both")
        self.epochs = epochs
        self.max_steps = max_steps
        self.target_passes = None if target_passes is None else float(target_passes)
        self.epoch_steps = epoch_steps
        self.records: list[dict[str, Any]] = []
        self._limit: int | None = None
        self._n_own = 0
        self._own = self._other = self._steps = self._epochs = 0

    # ----------------------------------------------------------------------------- hooks
    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        strategy._stop_training = False  # a stop at the very last step of the previous experience
        self._own = self._other = self._steps = self._epochs = 0
        loader = strategy.dataloader
        self._n_own = self._track(strategy, loader)
        if self.epoch_steps:  # what `epochs` epochs over the own data alone take
            self._limit = self.steps_for(len(current_target(strategy).dataset), strategy.train_mb_size)
        else:
            self._limit = self._step_limit(loader)
        if self._limit is None:
            strategy.train_epochs = self.epochs
        else:
            strategy.train_epochs = max(1, math.ceil(self._limit / max(len(loader), 1)))

    def before_training_epoch(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if not strategy._stop_training:
            self._epochs += 1

    def after_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._steps += 1
        composition = getattr(strategy.dataloader, "last_composition", None)
        batch = int(strategy.mbatch[0].shape[0])  # a shape: known on the host
        own, other = composition if composition is not None else (batch, 0)
        self._own += own
        self._other += other + max(batch - own - other, 0)  # e.g. DER's memory batch, appended
        self._other += self._reference_samples(strategy)
        if self._limit is not None and self._steps >= self._limit:
            strategy.stop_training()

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self.records.append(
            {
                "steps": self._steps,
                "target_passes": self._own / self._n_own if self._n_own else 0.0,
                "source_samples": self._other,
                "epochs": self._epochs,
            }
        )

    # --------------------------------------------------------------------------- helpers
    def _track(self, strategy: SupervisedTemplate, loader: Sized) -> int:
        """Tell our loader which samples are the experience's own; returns the own dataset's size."""
        own_dataset = current_target(strategy).dataset
        if isinstance(loader, MixedBatchLoader):
            return loader.n_target
        if isinstance(loader, DeviceBatchLoader):
            own_view = gather_tensors(own_dataset)
            if own_view is not None:
                loader.track(loader.view.member_of(own_view))
        return len(own_dataset)

    def steps_for(self, n_own: int, batch_size: int) -> int:
        """The ``epoch_steps`` cap of an experience whose own training data has ``n_own`` samples."""
        return self.epochs * max(1, -(-int(n_own) // int(batch_size)))

    def _step_limit(self, loader: Sized) -> int | None:
        if self.max_steps is not None:
            return self.max_steps
        if self.target_passes is None:
            return None
        if isinstance(loader, MixedBatchLoader):
            return max(1, math.ceil(self.target_passes * loader.n_target / loader.target_per_batch - 1e-9))
        return max(1, math.ceil(self.target_passes * len(loader) - 1e-9))

    @staticmethod
    def _reference_samples(strategy: SupervisedTemplate) -> int:
        """Samples of A-GEM's reference batch this step (its memory, not the loader's batch)."""
        total = 0
        for plugin in strategy.plugins:
            if isinstance(plugin, AGEMPlugin) and plugin.buffers:
                total += (plugin.sample_size // len(plugin.buffers)) * len(plugin.buffers)
        return total

    @property
    def last(self) -> dict[str, Any]:
        """The record of the last training experience (zeros before any)."""
        return dict(self.records[-1]) if self.records else dict(ZERO_BUDGET)

    # ------------------------------------------------------------------------ checkpoint
    def state_dict(self) -> dict[str, Any]:
        """``{"records": [per-experience budget dicts]}`` (the caps are construction settings)."""
        return {"records": [dict(r) for r in self.records]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the records saved by :meth:`state_dict`."""
        self.records[:] = [dict(r) for r in state["records"]]

    def __repr__(self) -> str:
        tail = ", epoch_steps=True" if self.epoch_steps else ""
        return (
            f"BudgetPlugin(epochs={self.epochs}, max_steps={self.max_steps}, "
            f"target_passes={self.target_passes}{tail})"
        )
