"""WiSE-FT (Wortsman et al., "Robust fine-tuning of zero-shot models", CVPR 2022): weight-space ensembles.

:class:`WeightEnsemblePlugin` keeps the weights the strategy starts an experience from
(``theta_0``: the baseline in the pairwise protocol), lets the strategy train (``theta_1``), then
evaluates ``theta(a) = (1 - a) * theta_0 + a * theta_1`` for each ``a`` of ``alphas`` on the
**validation** splits and leaves the model at the chosen ``a`` (:func:`interpolate`: every floating
tensor of the ``state_dict`` is interpolated, BatchNorm running statistics included; integer buffers
such as ``num_batches_tracked`` are taken from ``theta_1``; ``a = 0`` and ``a = 1`` are ``theta_0`` and
``theta_1`` exactly).

The choice (:func:`choose_alpha`, validation accuracies only, never a test set):

- ``rule = "mi_floor"`` (default): the largest ``a > 0`` whose source-validation accuracy is at least
  ``mi_floor`` times the baseline's (``a = 0``); when no ``a > 0`` keeps the floor, the ``a`` with the
  best mean of source and target validation accuracy;
- ``rule = "mean"``: the best mean of source and target validation accuracy (ties: the largest ``a``).

Interpolation costs evaluations, not optimizer steps: :attr:`evaluations` counts the validation passes
(one per ``a`` per validation set), added to the budget record as ``evaluations``. The test-set curve
(:meth:`row_extras`) is computed after the choice, for the report only.

Example:
    >>> from fer_avalanche.strategies.plugins.wiseft import choose_alpha
    >>> curve = [{"alpha": 0.0, "val": {"src": 0.60, "tgt": 0.30}},
    ...          {"alpha": 0.5, "val": {"src": 0.58, "tgt": 0.45}},
    ...          {"alpha": 1.0, "val": {"src": 0.50, "tgt": 0.50}}]
    >>> choose_alpha(curve, "src", "tgt", mi_floor=0.95)
    0.5
    >>> choose_alpha(curve, "src", "tgt", rule="mean")
    0.5
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch

from fer_avalanche.errors import ConfigError
from fer_avalanche.loaders import device_batches
from fer_avalanche.strategies.plugins.budget import BudgetPlugin, current_target
from fer_avalanche.strategies.plugins.validation import evaluate_accuracy
from fer_avalanche.utils import quiet_third_party

with quiet_third_party():
    from avalanche.training.plugins import SupervisedPlugin

if TYPE_CHECKING:
    from avalanche.training.templates import SupervisedTemplate

__all__ = ["WeightEnsemblePlugin", "interpolate", "choose_alpha", "RULES", "DEFAULT_ALPHAS"]

#: How the reported ``a`` is chosen (see the module docstring).
RULES: tuple[str, ...] = ("mi_floor", "mean")
#: ``0, 0.1, ..., 1``.
DEFAULT_ALPHAS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(11))


def interpolate(
    theta0: Mapping[str, torch.Tensor], theta1: Mapping[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """``(1 - alpha) * theta0 + alpha * theta1`` over a ``state_dict`` (integer tensors: ``theta1``'s).

    Example:
        >>> import torch
        >>> out = interpolate({"w": torch.tensor([0.0]), "n": torch.tensor(2)},
        ...                   {"w": torch.tensor([1.0]), "n": torch.tensor(5)}, 0.25)
        >>> out["w"].tolist(), int(out["n"])
        ([0.25], 5)
    """
    out = {}
    for key, b in theta1.items():
        a = theta0[key]
        if not torch.is_floating_point(b) or alpha == 1.0:
            out[key] = b.clone()
        elif alpha == 0.0:
            out[key] = a.clone()
        else:
            out[key] = torch.lerp(a, b, float(alpha))
    return out


def choose_alpha(
    curve: Sequence[Mapping[str, Any]],
    source: str,
    target: str,
    *,
    rule: str = "mi_floor",
    mi_floor: float = 0.95,
) -> float:
    """The ``a`` to report, from validation accuracies only (``curve[i]["val"][dataset]``).

    ``curve`` must hold ``a = 0`` (the baseline) for ``rule = "mi_floor"``.
    """
    if rule not in RULES:
        raise ConfigError(f"wise-ft rule must be one of {list(RULES)}, got {rule!r}")

    def mean(p: Mapping[str, Any]) -> float:
        return (p["val"][source] + p["val"][target]) / 2 if source != target else p["val"][target]

    by_mean = max(curve, key=lambda p: (mean(p), p["alpha"]))["alpha"]
    if rule == "mean":
        return float(by_mean)
    base = [p for p in curve if p["alpha"] == 0.0]
    if not base:
        raise ConfigError("wise-ft rule 'mi_floor' needs alpha 0 (the baseline) among the alphas")
    floor = mi_floor * base[0]["val"][source]
    kept = [p["alpha"] for p in curve if p["alpha"] > 0 and p["val"][source] >= floor]
    return float(max(kept)) if kept else float(by_mean)


class WeightEnsemblePlugin(SupervisedPlugin):
    """Interpolate between the starting and the trained weights; choose ``a`` on validation splits.

    Args:
        val_sets: validation datasets by name, **the source first** (``make_strategy``'s ``val_sets``).
        alphas: the interpolation weights to evaluate, in ``[0, 1]``.
        rule: ``"mi_floor"`` or ``"mean"`` (see the module docstring).
        mi_floor: with ``"mi_floor"``: the share of the baseline's source-validation accuracy to keep.

    After each training experience: :attr:`alpha` (chosen), :attr:`curve` (``[{"alpha", "val":
    {name: acc}}]``) and :attr:`evaluations`.
    """

    def __init__(
        self,
        val_sets: Mapping[str, Any] | None,
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        rule: str = "mi_floor",
        mi_floor: float = 0.95,
    ) -> None:
        super().__init__()
        if not val_sets:
            raise ConfigError(
                "wise-ft chooses its interpolation on validation splits: pass val_sets={dataset name: "
                "validation dataset} (the source first) to make_strategy"
            )
        try:
            alphas = sorted({float(a) for a in alphas})
        except (TypeError, ValueError):
            raise ConfigError(f"wise-ft alphas must be numbers in [0, 1], got {alphas!r}") from None
        if not alphas or any(not 0.0 <= a <= 1.0 for a in alphas):
            raise ConfigError(f"wise-ft alphas must be numbers in [0, 1], got {alphas!r}")
        if rule not in RULES:
            raise ConfigError(f"wise-ft rule must be one of {list(RULES)}, got {rule!r}")
        if rule == "mi_floor" and 0.0 not in alphas:
            raise ConfigError("wise-ft rule 'mi_floor' needs alpha 0 (the baseline) among the alphas")
        if isinstance(mi_floor, bool) or not isinstance(mi_floor, int | float) or not 0 <= mi_floor <= 1.5:
            raise ConfigError(f"wise-ft mi_floor must be a number in [0, 1.5], got {mi_floor!r}")
        self.val_sets = dict(val_sets)
        self.alphas = alphas
        self.rule = rule
        self.mi_floor = float(mi_floor)
        self.alpha: float | None = None
        self.curve: list[dict[str, Any]] = []
        self.evaluations = 0
        self._theta0: dict[str, torch.Tensor] | None = None
        self._theta1: dict[str, torch.Tensor] | None = None

    # ----------------------------------------------------------------------------- hooks
    def before_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._theta0 = _snapshot(strategy.model)
        self._theta1, self.alpha, self.curve, self.evaluations = None, None, [], 0

    def after_training_exp(self, strategy: SupervisedTemplate, **kwargs: object) -> None:
        self._theta1 = _snapshot(strategy.model)
        source = next(iter(self.val_sets))
        target = getattr(current_target(strategy), "dataset_name", None)
        if target not in self.val_sets:
            raise ConfigError(
                f"wise-ft chooses on the validation split of the experience's dataset {target!r}, but "
                f"val_sets has only {list(self.val_sets)}"
            )
        self.curve = [{"alpha": a, "val": self.accuracies(strategy, a, self.val_sets)} for a in self.alphas]
        self.evaluations = len(self.alphas) * len(self.val_sets)
        self.alpha = choose_alpha(self.curve, source, target, rule=self.rule, mi_floor=self.mi_floor)
        self.load(strategy, self.alpha)
        for plugin in strategy.plugins:
            if isinstance(plugin, BudgetPlugin) and plugin.records:
                plugin.records[-1]["evaluations"] = self.evaluations

    # --------------------------------------------------------------------------- helpers
    def load(self, strategy: SupervisedTemplate, alpha: float) -> None:
        """Put ``theta(alpha)`` of the last experience into ``strategy.model``."""
        if self._theta0 is None or self._theta1 is None:
            raise ConfigError("wise-ft: no trained experience to interpolate yet")
        strategy.model.load_state_dict(interpolate(self._theta0, self._theta1, alpha))

    def accuracies(
        self, strategy: SupervisedTemplate, alpha: float, datasets: Mapping[str, Any]
    ) -> dict[str, float]:
        """Accuracy of ``theta(alpha)`` on each of ``datasets`` (the model is left at ``theta(alpha)``)."""
        self.load(strategy, alpha)
        model = strategy.model
        modes = [m.training for m in model.modules()]
        model.eval()
        amp = bool(getattr(strategy, "amp", False))
        try:
            return {
                name: evaluate_accuracy(
                    model, device_batches(ds, strategy.eval_mb_size, strategy.device), strategy.device, amp
                )
                for name, ds in datasets.items()
            }
        finally:
            for m, training in zip(model.modules(), modes, strict=True):
                m.training = training

    def row_extras(self, strategy: SupervisedTemplate, test_sets: Mapping[str, Any]) -> dict[str, Any]:
        """``{"alpha", "alpha_curve", "wise_rule"}`` for a results row: the validation curve with each
        ``a``'s test accuracy added (computed after the choice; the model is left at the chosen ``a``)."""
        if self.alpha is None:
            return {}
        curve = [
            {
                "alpha": p["alpha"],
                "val": dict(p["val"]),
                "test": self.accuracies(strategy, p["alpha"], test_sets),
            }
            for p in self.curve
        ]
        self.load(strategy, self.alpha)
        return {"alpha": self.alpha, "alpha_curve": curve, "wise_rule": self.rule, "mi_floor": self.mi_floor}

    def state_dict(self) -> dict[str, Any]:
        """``{"alpha", "curve", "evaluations"}`` of the last experience."""
        return {"alpha": self.alpha, "curve": copy.deepcopy(self.curve), "evaluations": self.evaluations}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (the snapshots are not kept across a checkpoint)."""
        self.alpha = state["alpha"]
        self.curve = copy.deepcopy(state["curve"])
        self.evaluations = int(state["evaluations"])

    def __repr__(self) -> str:
        return f"WeightEnsemblePlugin(alphas={self.alphas}, rule={self.rule!r}, mi_floor={self.mi_floor})"


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
