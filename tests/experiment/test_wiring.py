"""Scenario settings followed into the strategy a cell builds and into the record it returns.

Each test fails when the setting is dropped or derived wrongly on its way (a one-line bug that raises
nothing): the steps budget derived from the target with a ceiling, ``adapt.select = "best_val"``.
"""

from __future__ import annotations

import math

import pytest
from _experiment_helpers import tiny

from fer_avalanche.experiment.baseline import train_or_load_baseline
from fer_avalanche.experiment.cell import run_cell
from fer_avalanche.experiment.context import ExperimentContext
from fer_avalanche.experiment.keys import cell_key
from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.recipe import TrainingRecipe


def _recipe(*overrides, strategy="ft-fc"):
    return TrainingRecipe.from_scenario(tiny(*overrides), strategy)


STEPS = ("adapt.budget='steps'", "adapt.epochs=2", "adapt.batch_size=32")


def test_a_steps_budget_without_steps_is_left_to_the_budget_plugin():
    kwargs = _recipe(*STEPS).strategy_kwargs(val_sets=None)
    assert kwargs["epoch_steps"] is True and "max_steps" not in kwargs and kwargs["epochs"] == 2


def test_explicit_steps_and_target_passes_are_passed_as_given():
    assert _recipe(*STEPS, "adapt.steps=7").strategy_kwargs(None)["max_steps"] == 7
    passes = _recipe("adapt.budget='target_passes'", "adapt.target_passes=1.5").strategy_kwargs(None)
    assert passes["target_passes"] == 1.5 and "max_steps" not in passes and "epoch_steps" not in passes
    default = _recipe("adapt.budget='target_passes'", "adapt.epochs=2").strategy_kwargs(None)
    assert default["target_passes"] == 2  # adapt.epochs passes
    assert "select" not in _recipe(*STEPS).strategy_kwargs({"v": 1})
    best = _recipe(*STEPS, "adapt.select='best_val'", "adapt.patience=3").strategy_kwargs({"v": 1})
    assert {k: best[k] for k in ("select", "patience", "monitor", "absent_classes")} == {
        "select": "best_val",
        "patience": 3,
        "monitor": "target",
        "absent_classes": "train",
    }
    # without validation sets the selection settings are left out (an evaluation-only strategy)
    assert "select" not in _recipe(*STEPS, "adapt.select='best_val'").strategy_kwargs(None)


def _run(scenario, strategy, cache):
    cell = Cell(strategy, ("lab-a",), 0, None, "pairwise")
    ctx = ExperimentContext(scenario, "cpu", cache)
    baseline = train_or_load_baseline(ctx, 0, {None: [ctx.source_name, "lab-a"]})
    datasets = {d.name: d for d in ctx.datasets(cell.targets, 0)}
    key = cell_key(scenario, cell, ctx.baseline_key(0), datasets)
    return run_cell(ctx, cell, baseline, key), len(datasets["lab-a"].get_split("train"))


@pytest.mark.slow
def test_a_steps_budget_derived_from_the_target_reaches_the_trained_cell(tmp_path):
    scenario = tiny("adapt.budget='steps'", "adapt.epochs=2", "adapt.batch_size=32")
    record, n_train = _run(scenario, "ft-fc", tmp_path / "cache")
    assert n_train % 32 != 0  # a case where the floor and the ceiling differ
    assert record.steps[-1].budget["steps"] == 2 * math.ceil(n_train / 32)


@pytest.mark.slow
def test_adapt_select_best_val_reaches_the_strategy_and_the_record(tmp_path):
    epochs = ["adapt.epochs=3", "adapt.eval_every=0"]
    best, _ = _run(tiny(*epochs, "adapt.select='best_val'"), "ft-fc", tmp_path / "cache")
    last, _ = _run(tiny(*epochs), "ft-fc", tmp_path / "cache")
    assert best.steps[-1].selected_epoch in {0, 1, 2, 3}  # best_val restores an evaluated epoch
    assert [point["epoch"] for point in best.steps[-1].curve] == [0, 1, 2, 3]  # evaluated every epoch
    assert last.steps[-1].selected_epoch is None and last.steps[-1].curve == []
