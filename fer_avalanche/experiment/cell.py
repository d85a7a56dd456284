"""Run one cell from its inputs alone: the baseline's weights, the cell's datasets and settings.

:func:`run_cell` starts from the baseline of the cell's seed, builds the strategy (warm-started on the
source by construction), trains it on each target in turn and evaluates it on the source and every
target of the cell after each step. What it trains on and how is one trainer per kind of strategy
(``spec.trains``):

- ``none`` (``baseline``): nothing; the baseline is evaluated;
- ``target``: one strategy carried through the targets; with a checkpoint path, its whole state is
  saved after every step but the last, and an existing checkpoint is continued from;
- ``joint``: at every step a fresh copy of the baseline trains once on the source and every target so
  far (Avalanche's ``JointTraining`` can be trained only once).

The adaptation seed comes from the cell alone (strategy, targets, seed, fold), never from the
positions of its targets in the scenario, so a cell gives the same numbers alone or among others.

Example:
    >>> record = run_cell(ctx, cell, baseline, key)  # doctest: +SKIP
    >>> record.steps[-1].evaluation["lab-a"].acc  # doctest: +SKIP
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from fer_avalanche.errors import CheckpointError
from fer_avalanche.experiment import faults
from fer_avalanche.experiment.baseline import load_state_bytes
from fer_avalanche.experiment.context import ExperimentContext, stable_seed
from fer_avalanche.experiment.evaluation import evaluate, evaluator_for
from fer_avalanche.experiment.keys import differing
from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.progress import EpochReporter
from fer_avalanche.experiment.records import BaselineRecord, CellRecord, StepRecord
from fer_avalanche.experiment.store import load_checkpoint, save_checkpoint
from fer_avalanche.utils import quiet_third_party, seed_everything

if TYPE_CHECKING:
    from avalanche.benchmarks import CLScenario

    from fer_avalanche.metrics import FERMetrics
    from fer_avalanche.strategies.protocols import FERStrategy

__all__ = ["run_cell", "CellInputs"]


@dataclass
class CellInputs:
    """Everything a trainer works with for one cell."""

    ctx: ExperimentContext
    cell: Cell
    baseline: BaselineRecord
    key: dict[str, Any]
    benchmark: CLScenario
    echo: Callable[[str], None] | None
    checkpoint: Path | None
    #: The network after the last step (set by the trainer; saved with ``save_model``).
    final_model: torch.nn.Module | None = None

    @property
    def seed(self) -> int:
        """The cell's adaptation seed (from its own identity only)."""
        c = self.cell
        return stable_seed(c.strategy, *c.targets, c.seed, "" if c.fold is None else c.fold)

    def model(self) -> torch.nn.Module:
        model = self.ctx.new_model()
        return load_state_bytes(model, self.baseline.state, self.baseline.checkpoint)

    def build(self) -> tuple[FERStrategy, FERMetrics, EpochReporter]:
        """A fresh strategy over a copy of the baseline, trained as the cell's recipe says."""
        bm = self.benchmark
        val_sets = None
        if getattr(bm, "valid_stream", None) is not None:
            val_sets = {exp.dataset_name: exp.dataset for exp in bm.valid_stream}
        evaluator, fer_metrics = evaluator_for(self.ctx.label_names)
        reporter = EpochReporter(self.cell.label, self.echo)
        seed_everything(self.seed)
        with quiet_third_party():
            strategy = self.ctx.strategy(
                self.ctx.recipe(self.cell.strategy),
                self.model(),
                self.cell.seed,
                source=bm.train_stream[0],
                evaluator=evaluator,
                plugins=[reporter],
                val_sets=val_sets,
            )
        seed_everything(stable_seed(self.seed, "train"))  # whatever building the strategy drew
        return strategy, fer_metrics, reporter

    def step(
        self,
        strategy: FERStrategy,
        fer_metrics: FERMetrics,
        reporter: EpochReporter,
        index: int,
        seconds: float,
    ) -> StepRecord:
        """Evaluate after training on target ``index`` (1-based position in the stream)."""
        with quiet_third_party():
            evaluation = evaluate(strategy, fer_metrics, self.benchmark.test_stream)
            extra = self.extras(strategy, index)
        return StepRecord(
            target=self.benchmark.train_stream[index].dataset_name,
            evaluation=evaluation,
            budget=dict(strategy.fer_budget),
            curve=list(strategy.fer_curve),
            selected_epoch=strategy.fer_selected_epoch,
            history=list(reporter.history),
            train_time_s=seconds,
            selection=_selection(strategy),
            extra=extra,
        )

    def extras(self, strategy: FERStrategy, index: int) -> dict[str, Any]:
        """Row entries beyond the evaluation: the ``absent_classes`` setting, the classes target
        ``index``'s training split lacks (``target_absent``, names) and what the strategy's plugins add
        (``fer_row_extras``: wise-ft's ``alpha``/``alpha_curve``, lp-ft's step split)."""
        from fer_avalanche.strategies.plugins.absent import present_classes

        names = self.ctx.label_names
        present = set(present_classes(self.benchmark.train_stream[index].dataset))
        out: dict[str, Any] = {
            "absent_classes": strategy.fer_absent_classes,
            "target_absent": [n for c, n in enumerate(names) if c not in present],
        }
        out.update(
            strategy.fer_row_extras({exp.dataset_name: exp.dataset for exp in self.benchmark.test_stream})
        )
        return out


def _selection(strategy: FERStrategy) -> dict[str, Any]:
    """The model selection of ``strategy``'s validation plugin (``{}`` without one that is active)."""
    from fer_avalanche.strategies.plugins import ValidationPlugin

    for plugin in strategy.plugins:
        if isinstance(plugin, ValidationPlugin) and plugin.active:
            return plugin.selection()
    return {}


# --------------------------------------------------------------------------------------- trainers
def _train_none(inputs: CellInputs) -> list[StepRecord]:
    strategy, fer_metrics, reporter = inputs.build()
    inputs.final_model = strategy.model
    return [
        inputs.step(strategy, fer_metrics, reporter, i, 0.0) for i in range(1, len(inputs.cell.targets) + 1)
    ]


def _train_target(inputs: CellInputs) -> list[StepRecord]:
    from fer_avalanche.strategies.state import load_strategy_state, strategy_state

    strategy, fer_metrics, reporter = inputs.build()
    datasets = [exp.dataset for exp in inputs.benchmark.train_stream]
    steps = _resume(inputs, lambda saved: load_strategy_state(strategy, saved["strategy"], datasets))
    checkpoint = inputs.checkpoint
    for index in range(len(steps) + 1, len(inputs.cell.targets) + 1):
        start = time.perf_counter()
        with quiet_third_party():
            strategy.train(inputs.benchmark.train_stream[index], eval_streams=[])
        steps.append(inputs.step(strategy, fer_metrics, reporter, index, time.perf_counter() - start))
        if checkpoint is not None and index < len(inputs.cell.targets):
            try:
                with quiet_third_party():
                    state = strategy_state(strategy, datasets)
            except CheckpointError as exc:  # e.g. a user's plugin that declares no state
                warnings.warn(
                    f"{inputs.cell.label}: no step checkpoints ({exc}); an interrupted sequence restarts "
                    "from its first target",
                    stacklevel=2,
                )
                checkpoint = None
                continue
            save_checkpoint(
                checkpoint, {"key": inputs.key, "steps": [s.to_dict() for s in steps], "strategy": state}
            )
            faults.reached("after-checkpoint")  # a testing hook (off unless FER_AVALANCHE_FAULT is set)
    inputs.final_model = strategy.model
    return steps


def _train_joint(inputs: CellInputs) -> list[StepRecord]:
    # Every step is a fresh joint model seeded from the cell alone, so a step checkpoint needs only
    # the evaluations of the steps before it.
    steps = _resume(inputs, lambda saved: None)
    stream = inputs.benchmark.train_stream
    for index in range(len(steps) + 1, len(inputs.cell.targets) + 1):
        strategy, fer_metrics, reporter = inputs.build()
        start = time.perf_counter()
        with quiet_third_party():
            strategy.train([stream[i] for i in range(index + 1)], eval_streams=[])
        steps.append(inputs.step(strategy, fer_metrics, reporter, index, time.perf_counter() - start))
        inputs.final_model = strategy.model
        if inputs.checkpoint is not None and index < len(inputs.cell.targets):
            save_checkpoint(inputs.checkpoint, {"key": inputs.key, "steps": [s.to_dict() for s in steps]})
            faults.reached("after-checkpoint")
    return steps


TRAINERS: dict[str, Callable[[CellInputs], list[StepRecord]]] = {
    "none": _train_none,
    "target": _train_target,
    "joint": _train_joint,
}


def _resume(inputs: CellInputs, load: Callable[[dict[str, Any]], None]) -> list[StepRecord]:
    """The steps held by the cell's step checkpoint (and its state loaded by ``load``), or none."""
    path = inputs.checkpoint
    if path is None or not path.exists():
        return []
    saved = load_checkpoint(path, "sequence step", required="key")
    if saved["key"] != inputs.key:
        what = differing(saved["key"], inputs.key) if isinstance(saved["key"], dict) else ["key"]
        raise CheckpointError(
            f"{path}: checkpoint of another experiment (differs from this run in: {', '.join(what)}); "
            "delete it to recompute this sequence"
        )
    with quiet_third_party():
        load(saved)
    return [StepRecord.from_dict(s) for s in saved["steps"]]


def run_cell(
    ctx: ExperimentContext,
    cell: Cell,
    baseline: BaselineRecord,
    key: dict[str, Any],
    *,
    checkpoint: Path | None = None,
    echo: Callable[[str], None] | None = None,
    save_model: bool = False,
) -> CellRecord:
    """Run ``cell`` and return its record (see the module docstring).

    Args:
        ctx: the experiment's context (datasets are loaded through it, once per process).
        cell: what to run.
        baseline: the baseline of ``cell.seed`` (its weights travel as bytes).
        key: the cell's key (:func:`~fer_avalanche.experiment.keys.cell_key`), saved with its record
            and its step checkpoints.
        checkpoint: where a sequence saves its state after each step (``None``: no step checkpoints).
        echo: prints one line per training epoch.
        save_model: also return the final network's weights (``record.state``: ``torch.save`` bytes).
    """
    from fer_avalanche.strategies.registry import get_strategy_spec

    faults.reached("start-cell")  # a testing hook (off unless FER_AVALANCHE_FAULT is set)
    spec = get_strategy_spec(cell.strategy)
    validation = ctx.recipe(cell.strategy).uses_validation or spec.needs_validation
    datasets = ctx.datasets(cell.targets, cell.seed, cell.fold)
    inputs = CellInputs(
        ctx=ctx,
        cell=cell,
        baseline=baseline,
        key=key,
        benchmark=ctx.benchmark(datasets, validation=validation and spec.trains != "none"),
        echo=echo,
        checkpoint=checkpoint if cell.kind == "sequence" and len(cell.targets) > 1 else None,
    )
    record = CellRecord(cell, key, TRAINERS[spec.trains](inputs))
    if save_model and inputs.final_model is not None:
        from fer_avalanche.experiment.baseline import state_bytes

        record.state = state_bytes(inputs.final_model)
    return record
