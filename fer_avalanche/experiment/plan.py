"""The experiment as a plan: which baselines to train and which independent cells to run.

A **cell** is one strategy adapting the baseline of one seed to its target(s), from its own inputs
alone: ``(strategy, targets, seed, fold)`` and the scenario's settings. In ``pairwise`` mode (the
paper) a cell adapts to one target; in ``sequential`` and ``class-incremental`` modes a cell is a whole
sequence of targets (one row per step). A target whose split is subject-independent k-fold with
``folds = "all"`` gives one cell per fold; several seeds give one cell per seed. Cells never depend on
which other cells the scenario holds or in which order they run.

Baselines are trained once per seed (the source's split never has folds), before any cell of that seed.

A scenario with a ``[sweep]`` multiplies the cells: every variant (:meth:`Scenario.variants`) plans
the cells of its own scenario (:meth:`Scenario.for_variant`), each with its ``variant`` (part of the
cell's name and key).

Example:
    >>> from fer_avalanche.config import Scenario
    >>> from fer_avalanche.experiment.plan import plan_cells
    >>> cells = plan_cells(Scenario.demo())
    >>> len(cells), cells[1].name
    (16, 'ft-fc__lab-a__s0')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from fer_avalanche.config import DatasetSpec, Scenario, Variant, variant_label, variant_slug
from fer_avalanche.errors import ConfigError

__all__ = [
    "Cell",
    "plan_cells",
    "plan_seeds",
    "fold_indices",
    "sequence_folds",
    "sequence_order",
    "variant_label",
    "variant_slug",
]


Kind = Literal["pairwise", "sequence"]


@dataclass(frozen=True)
class Cell:
    """One independent unit of work: a strategy, its target(s), a seed and a fold.

    Attributes:
        strategy: registered strategy name.
        targets: the target dataset names, in training order (one in pairwise mode).
        seed: the run seed (the baseline's, and the split's with ``split.seed = "run"``).
        fold: the fold of the targets' k-fold split (``None`` without ``folds = "all"``).
        kind: ``"pairwise"`` (one target) or ``"sequence"`` (every target in order).
        variant: the sweep's ``((key, value), ...)`` of this cell (``()`` without a sweep).
    """

    strategy: str
    targets: tuple[str, ...]
    seed: int
    fold: int | None = None
    kind: Kind = "pairwise"
    variant: Variant = ()

    @property
    def name(self) -> str:
        """File-safe name: ``ft-fc__lab-a__s0``, ``replay__sequence__s1``, ``ft-fc__ckplus__s0__f3``;
        a sweep's cell ends with its variant (``ft-fc__lab-a__s0__budget=steps``)."""
        target = self.targets[0] if self.kind == "pairwise" else "sequence"
        fold = "" if self.fold is None else f"__f{self.fold}"
        variant = f"__{variant_slug(self.variant)}" if self.variant else ""
        return f"{self.strategy}__{target}__s{self.seed}{fold}{variant}"

    @property
    def label(self) -> str:
        """Human label for logs: ``ft-fc -> lab-a (seed 0)``."""
        target = self.targets[0] if self.kind == "pairwise" else " -> ".join(self.targets)
        fold = "" if self.fold is None else f", fold {self.fold}"
        variant = f"; {variant_label(self.variant)}" if self.variant else ""
        return f"{self.strategy} -> {target} (seed {self.seed}{fold}{variant})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``targets`` as a list; ``variant`` as a table, left out without a sweep)."""
        out = asdict(self)
        out["targets"] = list(self.targets)
        out.pop("variant")
        if self.variant:
            out["variant"] = dict(self.variant)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Cell:
        """Inverse of :meth:`to_dict`."""
        variant = tuple((raw.get("variant") or {}).items())
        return cls(
            raw["strategy"], tuple(raw["targets"]), int(raw["seed"]), raw.get("fold"), raw["kind"], variant
        )


def fold_indices(spec: DatasetSpec) -> list[int | None]:
    """The folds a run iterates for one dataset: ``[None]``, or every fold of ``folds = "all"``."""
    return spec.split.fold_indices()


def sequence_folds(scenario: Scenario) -> list[int | None]:
    """The folds of a sequential run: the targets with ``folds = "all"`` must agree on ``k``."""
    per_target = {t.name: fold_indices(t) for t in scenario.targets}
    with_folds = {name: f for name, f in per_target.items() if f != [None]}
    if not with_folds:
        return [None]
    distinct = {tuple(f) for f in with_folds.values()}
    if len(distinct) > 1:
        ks = {name: len(f) for name, f in with_folds.items()}
        raise ConfigError(f"sequential mode: targets with folds = 'all' must have the same k, got {ks}")
    return list(next(iter(distinct)))


def plan_seeds(scenario: Scenario) -> list[int]:
    """The seeds whose baseline must be trained (one baseline per seed)."""
    if fold_indices(scenario.source) != [None]:
        raise ConfigError("source.split.folds: folds = 'all' is for targets; the source has one split")
    return list(scenario.seeds)


def plan_cells(scenario: Scenario) -> list[Cell]:
    """Every cell of ``scenario``, grouped by variant (a sweep's), seed, then target (pairwise) or fold,
    then strategy."""
    cells: list[Cell] = []
    for variant in scenario.variants():
        cells += _plan_variant(scenario.for_variant(variant), variant)
    return cells


def _plan_variant(scenario: Scenario, variant: Variant) -> list[Cell]:
    plan_seeds(scenario)
    cells: list[Cell] = []
    names = scenario.strategies.names
    for seed in scenario.seeds:
        if scenario.mode == "pairwise":
            for target in scenario.targets:
                for fold in fold_indices(target):
                    cells += [Cell(s, (target.name,), seed, fold, "pairwise", variant) for s in names]
        else:
            order = tuple(sequence_order(scenario))
            for fold in sequence_folds(scenario):
                cells += [Cell(s, order, seed, fold, "sequence", variant) for s in names]
    return cells


def sequence_order(scenario: Scenario) -> list[str]:
    """Target names of a sequence in training order (class-incremental: the class-group names)."""
    if scenario.mode == "class-incremental":
        from fer_avalanche.benchmarks import class_group_names

        return class_group_names(scenario.source.name, scenario.classes_per_exp, scenario.label_space)[1:]
    return [t.name for t in scenario.targets]
