"""What every task of an experiment builds from the scenario: datasets, benchmarks, models, strategies.

An :class:`ExperimentContext` is made from the scenario, the device and the cache folder alone, so a
worker process can rebuild it; it loads each dataset once (per run seed and fold) and keeps it.

Example:
    >>> from fer_avalanche.config import Scenario
    >>> from fer_avalanche.experiment.context import ExperimentContext
    >>> ctx = ExperimentContext(Scenario.demo(), "cpu", cache_dir=None)
    >>> [d.name for d in ctx.datasets(["lab-a"], seed=0)]  # doctest: +SKIP
    ['wild', 'lab-a']
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from fer_avalanche.config import DatasetSpec, Scenario
from fer_avalanche.data.cache import default_cache_dir
from fer_avalanche.data.ferdata import FERData
from fer_avalanche.experiment.keys import baseline_key
from fer_avalanche.experiment.recipe import TrainingRecipe
from fer_avalanche.experiment.specs import load_scenario_spec
from fer_avalanche.models import FERModel, make_model
from fer_avalanche.utils import resolve_device

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from avalanche.benchmarks import CLExperience, CLScenario
    from avalanche.benchmarks.utils import AvalancheDataset
    from avalanche.core import BasePlugin
    from avalanche.training.plugins import EvaluationPlugin

    from fer_avalanche.strategies.protocols import FERStrategy

__all__ = ["ExperimentContext", "stable_seed"]


def stable_seed(*parts: object) -> int:
    """A 31-bit seed derived from ``parts`` (names, seeds, folds), the same in every process."""
    return zlib.crc32("|".join(map(str, parts)).encode()) & 0x7FFFFFFF


def _data_settings(scenario: Scenario) -> dict[str, Any]:
    """What the loaded datasets of a scenario depend on."""
    d = scenario.to_dict()
    return {
        k: d.get(k) for k in ("mode", "source", "targets", "label_space", "image_size", "classes_per_exp")
    }


class ExperimentContext:
    """Datasets, benchmarks, models and strategies of one scenario on one device.

    Args:
        scenario: the experiment.
        device: ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device``.
        cache_dir: decode cache and baseline checkpoints (``None``: ``~/.cache/fer-avalanche``).
    """

    def __init__(self, scenario: Scenario, device: str | torch.device, cache_dir: str | Path | None) -> None:
        self.scenario = scenario
        self.device = resolve_device(device)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self._data: dict[tuple[str, int, int | None], FERData] = {}
        self._variants: dict[Any, ExperimentContext] = {}
        self._recipes: dict[str | None, TrainingRecipe] = {}

    # -------------------------------------------------------------- variants
    def variant(self, variant: Iterable[Sequence[object]]) -> ExperimentContext:
        """The context of one variant of the scenario's sweep (``()``: this one), built once.

        A variant whose datasets are set as this scenario's shares this context's loaded data, so a
        sweep over training settings loads every dataset once.
        """
        variant = tuple(tuple(pair) for pair in variant)
        if not variant and self.scenario.sweep is None:
            return self
        if variant not in self._variants:
            scenario = self.scenario.for_variant(variant)
            ctx = ExperimentContext(scenario, self.device, self.cache_dir)
            if _data_settings(scenario) == _data_settings(self.scenario):
                ctx._data = self._data
            self._variants[variant] = ctx
        return self._variants[variant]

    # ----------------------------------------------------------------- data
    @property
    def source_name(self) -> str:
        """The source's name (class-incremental: the first class group's, e.g. ``wild/angry+disgust``)."""
        s = self.scenario
        if s.mode == "class-incremental":
            from fer_avalanche.benchmarks import class_group_names

            return class_group_names(s.source.name, s.classes_per_exp, s.label_space)[0]
        return s.source.name

    @property
    def label_names(self) -> list[str]:
        from fer_avalanche.labels import get_label_space

        return list(get_label_space(self.scenario.label_space).names)

    def _spec(self, name: str) -> DatasetSpec:
        for spec in self.scenario.datasets:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def dataset(self, name: str, seed: int, fold: int | None = None) -> FERData:
        """One dataset of the scenario for run seed ``seed`` and ``fold``, loaded once."""
        if self.scenario.mode == "class-incremental":
            return self._class_group(name, seed)
        spec = self._spec(name)
        seed_key = seed if getattr(spec.split, "seed", 0) == "run" else -1
        fold_key = fold if spec.split.has_folds else None
        key = (name, seed_key, fold_key)
        if key not in self._data:
            self._data[key] = load_scenario_spec(spec, self.scenario, self.cache_dir, seed, fold_key)
        return self._data[key]

    def _class_group(self, name: str, seed: int) -> FERData:
        from fer_avalanche.benchmarks import split_by_classes

        key = (name, seed, None)
        if key not in self._data:
            spec = self.scenario.source
            source = load_scenario_spec(spec, self.scenario, self.cache_dir, seed, None)
            for part in split_by_classes(source, self.scenario.classes_per_exp):
                self._data[(part.name, seed, None)] = part
        return self._data[key]

    def source(self, seed: int) -> FERData:
        """The source dataset (class-incremental: the first class group) for ``seed``."""
        return self.dataset(self.source_name, seed)

    def datasets(
        self, targets: list[str] | tuple[str, ...], seed: int, fold: int | None = None
    ) -> list[FERData]:
        """The source (first) and ``targets`` for ``seed`` and ``fold``."""
        return [self.source(seed), *(self.dataset(t, seed, fold) for t in targets)]

    def benchmark(self, datasets: list[FERData], validation: bool) -> CLScenario:
        """Avalanche benchmark over ``datasets`` (train/test streams; ``valid_stream`` if asked)."""
        from fer_avalanche.benchmarks import cross_dataset_benchmark

        return cross_dataset_benchmark(datasets, with_validation=validation)

    # ---------------------------------------------------------------- model
    def new_model(self) -> FERModel:
        """A fresh model of the scenario's architecture."""
        spec = self.scenario.model
        return make_model(
            spec.arch,
            num_classes=len(self.label_names),
            image_size=self.scenario.image_size,
            **spec.options(),
        )

    def baseline_key(self, seed: int) -> dict[str, Any]:
        return baseline_key(self.scenario, self.source(seed).get_split("train"), seed, self.device.type)

    def baseline_path(self, seed: int) -> Path:
        from fer_avalanche.experiment.keys import digest

        return self.cache_dir / "baselines" / f"{self.source_name}-{digest(self.baseline_key(seed))}.pt"

    # ------------------------------------------------------------ strategies
    def recipe(self, strategy: str | None = None) -> TrainingRecipe:
        """The training recipe of ``strategy`` (``None``: the baseline's), resolved and validated once."""
        if strategy not in self._recipes:
            self._recipes[strategy] = TrainingRecipe.from_scenario(self.scenario, strategy, self.device.type)
        return self._recipes[strategy]

    def strategy(
        self,
        recipe: TrainingRecipe,
        model: torch.nn.Module,
        seed: int,
        *,
        source: CLExperience | None,
        evaluator: EvaluationPlugin | None,
        plugins: list[BasePlugin],
        val_sets: dict[str, AvalancheDataset] | None,
    ) -> FERStrategy:
        """``make_strategy(recipe.strategy, model, ...)`` on this context's device, as ``recipe`` says."""
        from fer_avalanche.strategies.registry import make_strategy

        return make_strategy(
            recipe.strategy,
            model,
            source=source,
            device=self.device,
            evaluator=evaluator,
            seed=seed,
            plugins=plugins,
            **recipe.strategy_kwargs(val_sets),
        )
