"""Adapt without unlearning the classes a target lacks: ``absent_classes = "mask"``.

Many FER targets lack a class of the source (CK+48 has no neutral, several have no contempt). Trained
with a 7-way cross-entropy, every target batch then teaches the head to never predict the missing
class, and the source loses it (ft-fc on CK+48: FER2013 neutral recall 0.62 -> 0.01). With
``"mask"``, the loss of a **target** sample is a cross-entropy over the classes present in the target's
*training* split only: the logits of the absent classes are set to ``-inf`` before the softmax, so
their gradient is exactly zero and nothing pushes them down. Samples of other datasets in the same
batch (fusion's source, a replay buffer, DER's memory batch, GDumb's memory) keep the full label set,
so the mask is per sample: which rows are target samples is read from the loader
(:attr:`~fer_avalanche.loaders.DeviceBatchLoader.last_own`, drawn on the CPU with the batch; a loader
that is not ours counts every row as a target sample). Distillation (LwF, DER's logit term) reads the
model's unmasked output and stays over all classes; evaluation is unchanged (every class).
``"train"`` is the plain loss over every class, and the default: masking keeps the absent class's
source recall (neutral 0 -> 20-43% in the README's measurements) but the masked model also predicts
that class on target images, each an error in the 7-way target evaluation (4-15 target points lost).

:class:`AbsentClassPlugin` does it for every strategy: it wraps the strategy's criterion
(:class:`AbsentClassCriterion`) and, for Avalanche's DER (whose loss calls ``F.cross_entropy`` on the
output directly), masks the current batch's rows of the output after the forward pass (DER's memory
rows, first in its output, are left alone). Nothing is masked when the target has every class.

Example:
    >>> import torch
    >>> from fer_avalanche.strategies.plugins.absent import mask_absent_logits
    >>> logits = torch.zeros(2, 3)
    >>> mask_absent_logits(logits, torch.tensor([True, False]), torch.tensor([True, True, False]))
    tensor([[0., 0., -inf],
            [0., 0., 0.]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import DeviceBatchLoader, gather_tensors
from fer_avalanche.strategies.plugins.budget import current_target
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin
    from avalanche.training.supervised import DER

if TYPE_CHECKING:
    from collections.abc import Mapping

    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.training.templates import SupervisedTemplate

__all__ = [
    "ABSENT_MODES",
    "AbsentClassPlugin",
    "AbsentClassCriterion",
    "mask_absent_logits",
    "present_classes",
    "check_absent_mode",
]

#: ``absent_classes`` settings: ``"mask"`` (the loss of target samples over their present classes
#: only) or ``"train"`` (every class, the plain cross-entropy).
ABSENT_MODES: tuple[str, ...] = ("mask", "train")


def check_absent_mode(mode: object, where: str = "absent_classes") -> str:
    """``mode`` if it is one of :data:`ABSENT_MODES`, else :class:`ConfigError` naming ``where``."""
    if mode not in ABSENT_MODES:
        raise ConfigError(f"{where} must be one of {list(ABSENT_MODES)}, got {mode!r}")
    return mode


def present_classes(dataset: AvalancheDataset) -> list[int]:
    """The sorted class indices that occur in ``dataset.targets`` (an Avalanche or FER dataset).

    Example:
        >>> class D:
        ...     targets = [3, 0, 3, 5]
        >>> present_classes(D())
        [0, 3, 5]
    """
    return sorted(int(c) for c in np.unique(np.asarray(list(dataset.targets), dtype=np.int64)))


def mask_absent_logits(logits: torch.Tensor, is_target: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """``logits`` with ``-inf`` in the absent columns (``~present``) of the target rows (``is_target``).

    A cross-entropy over the result is the cross-entropy over the present classes for target rows and
    over every class for the others; the gradient on a masked logit is exactly zero.
    """
    mask = is_target.to(torch.bool)[:, None] & ~present.to(torch.bool)[None, :]
    return logits.masked_fill(mask, float("-inf"))


class AbsentClassCriterion(nn.Module):
    """A criterion that masks the absent classes of target rows (while training), then calls ``inner``."""

    def __init__(self, inner: nn.Module, plugin: AbsentClassPlugin) -> None:
        super().__init__()
        self.inner = inner
        self.plugin = plugin

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.inner(self.plugin.masked(logits), targets)


class AbsentClassPlugin(SupervisedPlugin):
    """Per-sample loss over the target's present classes (see the module docstring).

    Args:
        mode: ``"mask"`` or ``"train"`` (this plugin then does nothing).

    After each training experience :attr:`present` lists the target's training classes and
    :attr:`absent` the classes masked for its samples.
    """

    def __init__(self, mode: str = "mask") -> None:
        super().__init__()
        self.mode = check_absent_mode(mode)
        self.present: list[int] = []
        self.absent: list[int] = []
        self._strategy: Any = None
        self._present_mask: torch.Tensor | None = None
        self._in_step = False

    # ----------------------------------------------------------------------------- hooks
    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._strategy, self._present_mask = None, None
        if self.mode != "mask":
            return
        self.present = present_classes(current_target(strategy).dataset)
        num_classes = _num_classes(strategy.model)
        self.absent = [c for c in range(num_classes) if c not in self.present] if num_classes else []
        if not self.absent:
            return
        present = torch.zeros(num_classes, dtype=torch.bool)
        present[self.present] = True
        self._present_mask = present.to(strategy.device)
        loader = strategy.dataloader
        if isinstance(loader, DeviceBatchLoader) and loader.own is None:
            own = gather_tensors(current_target(strategy).dataset)
            if own is not None:
                loader.track(loader.view.member_of(own))
        if not isinstance(strategy._criterion, AbsentClassCriterion):
            strategy._criterion = AbsentClassCriterion(strategy._criterion, self)
        self._strategy = strategy

    def before_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._in_step = True  # only the training step's loss is masked (not an importance pass after it)

    def after_training_iteration(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._in_step = False

    def after_forward(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        # DER computes its cross-entropy on the output itself (not through the criterion).
        if isinstance(strategy, DER) and getattr(strategy, "replay_loader", None) is not None:
            strategy.mb_output = self.masked(strategy.mb_output)

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._strategy, self._in_step = None, False

    def row_extras(
        self, strategy: SupervisedTemplate, test_sets: Mapping[str, AvalancheDataset]
    ) -> dict[str, Any]:
        """``{"masked_classes": [class indices masked for target samples]}`` for a results row."""
        return {"masked_classes": list(self.absent)} if self.mode == "mask" else {}

    # --------------------------------------------------------------------------- helpers
    def target_rows(self, n_rows: int, device: torch.device) -> torch.Tensor:
        """Which of the ``n_rows`` rows of the current output are target samples (a bool tensor).

        The loader's batch is the **last** rows of the output (DER puts its memory batch first); a
        loader that reports no mask counts every row as a target sample.
        """
        own = getattr(self._strategy.dataloader, "last_own", None)
        if own is None:
            return torch.ones(n_rows, dtype=torch.bool, device=device)
        own = own.to(device)
        if own.shape[0] >= n_rows:
            return own[own.shape[0] - n_rows :]
        return torch.cat([torch.zeros(n_rows - own.shape[0], dtype=torch.bool, device=device), own])

    def masked(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits`` masked for the target rows while training (unchanged otherwise)."""
        strategy = self._strategy
        if strategy is None or self._present_mask is None or not self._in_step or not strategy.is_training:
            return logits
        if logits.dim() != 2 or logits.shape[1] != self._present_mask.shape[0]:
            return logits
        rows = self.target_rows(logits.shape[0], logits.device)
        return mask_absent_logits(logits, rows, self._present_mask)

    # ------------------------------------------------------------------------ checkpoint
    def state_dict(self) -> dict[str, Any]:
        """Nothing carries over: the present classes are read from each experience."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore (see :meth:`state_dict`)."""

    def __repr__(self) -> str:
        return f"AbsentClassPlugin(mode={self.mode!r})"


def _num_classes(model: nn.Module) -> int:
    """Output size of the model's last linear layer (0 if it has none)."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return int(last[-1].out_features) if last else 0
