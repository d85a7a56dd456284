"""The training recipe of one strategy: every setting ``make_strategy`` needs, resolved once.

A :class:`TrainingRecipe` is the scenario's ``train`` table (the baseline) or its ``adapt`` table with
the strategy's overrides (:data:`~fer_avalanche.config.STRATEGY_OVERRIDES`) applied by
``dataclasses.replace``, plus the strategy's own options and the scenario-wide settings a strategy is
built with (``eval_batch_size``, ``amp`` on CUDA, ``compile``). It is validated once when made (a bad
value is a :class:`~fer_avalanche.errors.ConfigError` naming the setting, e.g.
``strategies.options.fusion.budget``), and it is what the caches are keyed on: :meth:`TrainingRecipe.key`
is the part of the baseline key (``train``, ``amp``, ``compile``) or of the cell key (``adapt``,
``options``, ``eval_batch_size``) that the recipe holds.

The step rule of ``budget = "steps"`` without ``steps`` is not computed here: the recipe asks for
``epoch_steps`` and :class:`~fer_avalanche.strategies.plugins.BudgetPlugin` derives the cap of each
experience from its size and the batch size when its training starts.

Example:
    >>> from fer_avalanche.config import Scenario
    >>> from fer_avalanche.experiment.recipe import TrainingRecipe
    >>> recipe = TrainingRecipe.from_scenario(Scenario.demo(), "fusion")
    >>> recipe.train.budget, recipe.train.steps, recipe.train.batch_size, dict(recipe.options)
    ('steps', None, 32, {'mix': 'batch', 'target_fraction': 0.5})
    >>> kwargs = recipe.strategy_kwargs(val_sets=None)
    >>> kwargs["epoch_steps"], "max_steps" in kwargs
    (True, False)
    >>> TrainingRecipe.from_scenario(Scenario.demo()).key()["train"]["epochs"]  # the baseline's
    6
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fer_avalanche.config import STRATEGY_OVERRIDES, Scenario, TrainSpec
from fer_avalanche.errors import ConfigError

__all__ = ["TrainingRecipe", "NEWER_TRAIN_DEFAULTS"]

#: Settings added to ``TrainSpec`` after baselines were first cached, with the default at which they
#: change nothing: left out of a baseline key at that default, so cached baselines stay valid.
NEWER_TRAIN_DEFAULTS: tuple[tuple[str, object], ...] = (
    ("patience_steps", None),
    ("monitor", "target"),
    ("absent_classes", "train"),
)


@dataclass(frozen=True)
class TrainingRecipe:
    """How one strategy is trained (see the module docstring); make it with :meth:`from_scenario`.

    ``train`` holds the optimisation settings, a :class:`~fer_avalanche.config.TrainSpec` (the scenario's
    ``train`` or ``adapt`` table with the strategy's overrides; never modified in place); ``where`` is
    the scenario key the recipe was resolved from (for messages).
    """

    strategy: str = "naive"
    where: str = "train"
    train: TrainSpec = field(default_factory=TrainSpec)
    #: The strategy's own options (``strategies.options.<name>`` without the overrides).
    options: Mapping[str, Any] = field(default_factory=dict)
    eval_batch_size: int = 512
    #: bf16 autocast (already resolved for the device: off unless CUDA).
    amp: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------------------ making
    @classmethod
    def from_scenario(
        cls, scenario: Scenario, strategy: str | None = None, device_type: str = "cpu"
    ) -> TrainingRecipe:
        """The recipe of ``strategy`` in ``scenario`` (``None``: the baseline's, from ``train``).

        A strategy's recipe is ``adapt`` with the overrides among its options; wise-ft over a ``base``
        also gets the base's own scenario options as ``base_options`` (unless given).
        """
        amp = bool(scenario.amp) and device_type == "cuda"
        common = {"eval_batch_size": scenario.eval_batch_size, "amp": amp, "compile": scenario.compile}
        if strategy is None:
            return cls(train=dataclasses.replace(scenario.train), **common)
        options = dict(scenario.strategies.options.get(strategy, {}))
        overrides = {k: options.pop(k) for k in STRATEGY_OVERRIDES if k in options}
        base = options.get("base")  # wise-ft over a base: the base's own scenario options, unless given
        if isinstance(base, str) and "base_options" not in options and base in scenario.strategies.options:
            inherited = scenario.strategies.options[base]
            options["base_options"] = {k: v for k, v in inherited.items() if k not in STRATEGY_OVERRIDES}
        where = f"strategies.options.{strategy}" if overrides else "adapt"
        train = dataclasses.replace(scenario.adapt, **overrides)
        return cls(strategy=strategy, where=where, train=train, options=options, **common)

    def for_evaluation(self) -> TrainingRecipe:
        """This recipe for an evaluation-only strategy (``baseline``): no cap, no model selection."""
        train = dataclasses.replace(
            self.train,
            budget="epochs",
            steps=None,
            target_passes=None,
            select="last",
            patience=None,
            patience_steps=None,
            eval_every=0,
        )
        return dataclasses.replace(self, strategy="baseline", train=train, options={})

    def validate(self) -> None:
        """Check every setting once (:meth:`TrainSpec.validate` under :attr:`where`).

        Raises:
            ConfigError: naming the setting and what was expected.
        """
        t = self.train
        t.validate(self.where)
        if t.budget == "steps" and t.steps is None and t.epochs < 1:
            raise ConfigError(
                f"{self.where}.epochs must be >= 1 with budget = 'steps' and no steps "
                f"(the steps are what epochs epochs over the target take), got {t.epochs}"
            )
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"strategies.options.{self.strategy} must be a table, got {self.options!r}")

    # ------------------------------------------------------------------------------ reading
    def settings(self) -> dict[str, Any]:
        """The ``TrainSpec`` settings, as ``dataclasses.asdict(TrainSpec)`` gives them."""
        return dataclasses.asdict(self.train)

    @property
    def uses_validation(self) -> bool:
        """Whether the recipe's model selection or curves need validation splits (not the strategy's own
        need: ``spec.needs_validation``)."""
        from fer_avalanche.strategies.plugins.validation import uses_validation

        return uses_validation(self.train.select, self.train.eval_every)

    def key(self) -> dict[str, Any]:
        """What the cache keys hold of this recipe, exactly as before recipes existed.

        The baseline's (``where == "train"``): ``{"train", "amp", "compile"}``, the settings without
        those of :data:`NEWER_TRAIN_DEFAULTS` at their default; a strategy's: ``{"adapt", "options",
        "eval_batch_size"}``.
        """
        settings = self.settings()
        if self.where == "train":
            for name, default in NEWER_TRAIN_DEFAULTS:  # at their defaults they change nothing,
                if settings.get(name) == default:  # so older checkpoints stay valid
                    settings.pop(name, None)
            return {"train": settings, "amp": self.amp, "compile": self.compile}
        return {"adapt": settings, "options": dict(self.options), "eval_batch_size": self.eval_batch_size}

    def strategy_kwargs(self, val_sets: Mapping[str, Any] | None) -> dict[str, Any]:
        """``make_strategy`` keyword arguments of this recipe (all but the model, source, device,
        evaluator, plugins and seed); without ``val_sets`` the model-selection settings are left out.
        """
        t = self.train
        out: dict[str, Any] = {
            "lr": t.lr,
            "optimizer": t.optimizer,
            "weight_decay": t.weight_decay,
            "batch_size": t.batch_size,
            "eval_batch_size": self.eval_batch_size,
            "augment": t.augment,
            "amp": self.amp,
            "compile": self.compile,
            "epochs": max(1, int(t.epochs)),
            "absent_classes": t.absent_classes,
        }
        if t.budget == "steps":
            if t.steps is None:
                out["epoch_steps"] = True
            else:
                out["max_steps"] = int(t.steps)
        elif t.budget == "target_passes":
            out["target_passes"] = float(t.epochs if t.target_passes is None else t.target_passes)
        if val_sets:
            out["val_sets"] = val_sets
            if t.select != "last":
                out["select"] = t.select
            if t.patience is not None:
                out["patience"] = int(t.patience)
            if t.patience_steps is not None:
                out["patience_steps"] = int(t.patience_steps)
            if t.select == "best_val":
                out["monitor"] = t.monitor or "target"
            if t.eval_every:
                out["eval_every"] = int(t.eval_every)
        return {**out, **self.options}
