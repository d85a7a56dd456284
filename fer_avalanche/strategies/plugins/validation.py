"""Validation during adaptation: forgetting curves and model selection on validation splits, never test.

:class:`ValidationPlugin` evaluates named validation sets while a strategy trains:

- **curves** (``eval_every = k``): accuracy on every validation set before training (epoch 0), every
  ``k`` epochs, and at the end of the experience; ``strategy.fer_curve`` lists
  ``{"epoch": int, "step": int, "acc": {name: float}}`` for the last training experience (``step`` =
  optimizer steps so far in that experience);
- **model selection** (``select = "best_val"``): evaluates after every epoch (and at epoch 0), keeps the
  model state (weights and buffers) of the best monitored value, restores it at the end of the
  experience (before any other plugin's ``after_training_exp``: LwF's teacher, EWC's Fisher, a
  rehearsal buffer see the selected model). ``patience_steps = s`` stops training at the first
  evaluation ``s`` or more optimizer steps after the best one (steps, so strategies whose epochs
  differ in length under one step budget get the same patience); ``patience = p`` (epochs) after
  ``p`` evaluations without a strict gain. ``strategy.fer_selected_epoch`` is the restored epoch
  (0 = the model before training won). One monitor for every strategy: ``monitor = "target"`` (the
  default) the current experience's validation accuracy (``val_sets[experience.dataset_name]``),
  ``"mean"`` the mean of it and the **source's** (the val set named **first** in ``val_sets``);
  ``"target+source"`` is an older name of ``"mean"``.

It does not disturb training: batches come from
:class:`~fer_avalanche.loaders.DeviceBatchLoader` in order (no random draw, global or other), the
model runs in ``eval()`` mode under ``torch.no_grad()`` (no BatchNorm statistic moves) and every
module gets back the train/eval flag it had (frozen parts stay in ``eval()``); correct predictions are
counted on the device, one host sync per validation set. Weights trained with ``eval_every = 1``
equal, bit for bit on CPU, those trained without.

Example:
    >>> from fer_avalanche.strategies.plugins import ValidationPlugin
    >>> plugin = ValidationPlugin({"fer2013": src_val, "jaffe": tgt_val}, select="best_val",
    ...                           patience=3)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import device_batches
from fer_avalanche.strategies.plugins.budget import current_target
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from avalanche.training.templates import SupervisedTemplate

__all__ = ["ValidationPlugin", "SELECTS", "MONITORS", "evaluate_accuracy", "uses_validation"]

#: Model selection modes.
SELECTS: tuple[str, ...] = ("last", "best_val")
#: What ``best_val`` monitors.
MONITORS: tuple[str, ...] = ("target", "mean")
_MONITOR_ALIASES = {"target+source": "mean"}


def uses_validation(select: str, eval_every: int) -> bool:
    """Whether training with these settings evaluates validation splits (``best_val`` or curves).

    The one rule for when the runner builds validation splits and the plugin evaluates them.

    Example:
        >>> uses_validation("last", 0), uses_validation("best_val", 0), uses_validation("last", 2)
        (False, True, True)
    """
    return select == "best_val" or bool(eval_every)


@torch.no_grad()
def evaluate_accuracy(
    model: torch.nn.Module, batches: Iterable[Sequence[torch.Tensor]], device: torch.device, amp: bool = False
) -> float:
    """Top-1 accuracy of ``model`` over ``batches`` (``[x, y, ...]``), counted on the device (one sync).

    The caller sets the model's mode; this function draws no random number.
    """
    correct = torch.zeros((), dtype=torch.long, device=device)
    n = 0
    ctx = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()
    for batch in batches:
        x, y = batch[0], batch[1]
        with ctx:
            out = model(x)
        correct += (out.argmax(dim=1) == y).sum()
        n += int(y.shape[0])
    return float(correct.item()) / n if n else float("nan")


class ValidationPlugin(SupervisedPlugin):
    """Evaluate validation sets during training (curves) and keep the best state (``best_val``).

    Args:
        val_sets: validation datasets by dataset name (the first one is the source); Avalanche
            datasets (the fast path for fer-avalanche ones).
        eval_every: evaluate every this many epochs (0 = only what ``select`` needs).
        select: ``"last"`` (keep the trained model) or ``"best_val"``.
        patience: with ``best_val``: stop after this many evaluations (epochs) without a gain.
        patience_steps: with ``best_val``: stop at the first evaluation at least this many optimizer
            steps after the best one.
        monitor: ``"target"`` or ``"mean"`` (see the module docstring).
        batch_size: evaluation batch size (``None`` = the strategy's ``eval_mb_size``).

    Raises:
        ConfigError: bad settings (here), or a monitored target with no validation set (at the first
            training experience; the message lists the sets given).
    """

    def __init__(
        self,
        val_sets: Mapping[str, Any] | None,
        eval_every: int = 0,
        select: str = "last",
        patience: int | None = None,
        monitor: str = "target",
        batch_size: int | None = None,
        patience_steps: int | None = None,
    ) -> None:
        super().__init__()
        val_sets = dict(val_sets or {})
        if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 0:
            raise ConfigError(f"eval_every must be an int >= 0, got {eval_every!r}")
        if select not in SELECTS:
            raise ConfigError(f"select must be one of {list(SELECTS)}, got {select!r}")
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 1
        ):
            raise ConfigError(f"patience must be an int >= 1 or None, got {patience!r}")
        if patience is not None and select != "best_val":
            raise ConfigError(f"patience={patience} needs select='best_val' (got select={select!r})")
        for name, value in (("patience_steps", patience_steps),):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be an int >= 1 or None, got {value!r}")
        if patience_steps is not None and select != "best_val":
            raise ConfigError(f"patience_steps={patience_steps} needs select='best_val' (got {select!r})")
        if patience_steps is not None and patience is not None:
            raise ConfigError("give patience (evaluations) or patience_steps (optimizer steps), not both")
        monitor = _MONITOR_ALIASES.get(monitor, monitor)
        if monitor not in MONITORS:
            raise ConfigError(f"monitor must be one of {list(MONITORS)}, got {monitor!r}")
        if uses_validation(select, eval_every) and not val_sets:
            raise ConfigError(
                f"eval_every={eval_every} / select={select!r} need validation sets: pass "
                "val_sets={dataset_name: validation dataset, ...} (the source first)"
            )
        bad = [k for k, v in val_sets.items() if not isinstance(k, str) or not hasattr(v, "__len__")]
        if bad:
            raise ConfigError(f"val_sets must map dataset names to datasets; bad entries: {bad}")
        self.val_sets = val_sets
        self.eval_every = eval_every
        self.select = select
        self.patience = patience
        self.patience_steps = patience_steps
        self.monitor = monitor
        self.batch_size = batch_size
        self.curve: list[dict[str, Any]] = []
        self.selected_epoch: int | None = None
        self._loaders: dict[str, Any] = {}
        self._monitored: list[str] = []
        self._epoch = 0
        self._best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        self._stale = 0
        self._best_step = 0

    @property
    def active(self) -> bool:
        """Whether this plugin evaluates anything."""
        return uses_validation(self.select, self.eval_every)

    # ----------------------------------------------------------------------------- hooks
    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self.curve, self.selected_epoch = [], None
        self._epoch, self._best, self._stale, self._best_step = 0, None, 0, 0
        if not self.active:
            return
        self._monitored = self._monitored_names(strategy) if self.select == "best_val" else []
        size = self.batch_size or strategy.eval_mb_size
        self._loaders = {
            name: device_batches(ds, size, strategy.device) for name, ds in self.val_sets.items()
        }
        self._evaluate(strategy, step=0)

    def after_training_epoch(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if not self.active:
            return
        self._epoch += 1
        if self.select == "best_val" or self._epoch % self.eval_every == 0:
            step = strategy.clock.train_exp_iterations
            self._evaluate(strategy, step=step)
            if self.patience is not None and self._stale >= self.patience:
                strategy.stop_training()
            if self.patience_steps is not None and step - self._best_step >= self.patience_steps:
                strategy.stop_training()

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        if not self.active:
            return
        if self.curve and self.curve[-1]["epoch"] != self._epoch:  # the curve ends at the final model
            self._evaluate(strategy, step=strategy.clock.train_exp_iterations)
        if self._best is not None:
            _, epoch, state = self._best
            strategy.model.load_state_dict(state)
            self.selected_epoch = epoch
        self._loaders, self._best = {}, None

    # --------------------------------------------------------------------------- helpers
    def _monitored_names(self, strategy: SupervisedTemplate) -> list[str]:
        target = getattr(current_target(strategy), "dataset_name", None)
        if target not in self.val_sets:
            raise ConfigError(
                f"select='best_val' monitors the validation accuracy of the experience's dataset "
                f"{target!r}, but val_sets has only {list(self.val_sets)}"
            )
        names = [target]
        source = next(iter(self.val_sets))
        if self.monitor == "mean" and source != target:
            names.append(source)
        return names

    def _evaluate(self, strategy: SupervisedTemplate, step: int) -> None:
        model = strategy.model
        modes = [m.training for m in model.modules()]
        model.eval()
        try:
            acc = {
                name: evaluate_accuracy(model, loader, strategy.device, bool(getattr(strategy, "amp", False)))
                for name, loader in self._loaders.items()
            }
        finally:
            for m, training in zip(model.modules(), modes, strict=True):
                m.training = training
        self.curve.append({"epoch": self._epoch, "step": int(step), "acc": acc})
        if self.select != "best_val":
            return
        value = sum(acc[n] for n in self._monitored) / len(self._monitored)
        if self._best is None or value > self._best[0]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self._best, self._stale, self._best_step = (value, self._epoch, state), 0, step
        else:
            self._stale += 1

    def selection(self) -> dict[str, Any]:
        """The settings of its model selection, as a results row records them (``monitor`` ``None``
        under ``select = "last"``: nothing is monitored)."""
        best = self.select == "best_val"
        return {
            "select": self.select,
            "monitor": self.monitor if best else None,
            "patience": self.patience,
            "patience_steps": self.patience_steps,
        }

    # ------------------------------------------------------------------------ checkpoint
    def state_dict(self) -> dict[str, Any]:
        """``{"curve": [...], "selected_epoch": int | None}`` of the last training experience."""
        return {
            "curve": [dict(c, acc=dict(c["acc"])) for c in self.curve],
            "selected_epoch": self.selected_epoch,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.curve = [dict(c, acc=dict(c["acc"])) for c in state["curve"]]
        self.selected_epoch = None if state["selected_epoch"] is None else int(state["selected_epoch"])

    def __repr__(self) -> str:
        return (
            f"ValidationPlugin(val_sets={list(self.val_sets)}, eval_every={self.eval_every}, "
            f"select={self.select!r}, patience={self.patience}, patience_steps={self.patience_steps}, "
            f"monitor={self.monitor!r})"
        )
