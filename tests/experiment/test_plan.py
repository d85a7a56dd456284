"""The plan: which cells a scenario holds (no training)."""

import pytest
from _experiment_helpers import tiny

from fer_avalanche.errors import ConfigError
from fer_avalanche.experiment.plan import Cell, plan_cells, plan_seeds


def test_pairwise_plan_is_strategies_x_targets_x_seeds():
    scenario = tiny("seeds=[0, 1]", "strategies.names=['ft-fc', 'fusion']")
    cells = plan_cells(scenario)
    assert len(cells) == 2 * 2 * 2
    assert cells[0] == Cell("ft-fc", ("lab-a",), 0, None, "pairwise")
    assert {c.seed for c in cells} == {0, 1} and plan_seeds(scenario) == [0, 1]
    assert len({c.name for c in cells}) == len(cells)  # file names never collide
    assert "ft-fc__lab-b__s1" in {c.name for c in cells}


def test_sequential_plan_is_one_cell_per_strategy_and_seed_over_every_target():
    cells = plan_cells(tiny("mode='sequential'", "strategies.names=['naive', 'replay']"))
    assert [c.name for c in cells] == ["naive__sequence__s0", "replay__sequence__s0"]
    assert all(c.targets == ("lab-a", "lab-b") and c.kind == "sequence" for c in cells)


def test_class_incremental_plan_sequences_the_class_groups_after_the_first():
    scenario = tiny(
        "mode='class-incremental'", "targets=[]", "classes_per_exp=3", "strategies.names=['naive']"
    )
    (cell,) = plan_cells(scenario)
    assert cell.targets == ("wild/happy+sad+surprise", "wild/neutral")  # the baseline learns angry..fear


def test_cell_round_trips_through_a_dict():
    cell = Cell("replay", ("a", "b"), 3, 2, "sequence")
    assert Cell.from_dict(cell.to_dict()) == cell
    assert cell.name == "replay__sequence__s3__f2"


def test_folds_of_a_source_are_refused():
    scenario = tiny("source.split={method='kfold', k=3, folds='all'}")
    with pytest.raises(ConfigError, match="source.split.folds"):
        plan_cells(scenario)


def test_a_kfold_target_with_all_folds_gives_one_cell_per_fold():
    scenario = tiny("targets.lab-a.split={method='kfold', k=3, folds='all'}", "strategies.names=['ft-fc']")
    cells = plan_cells(scenario)
    assert [(c.targets[0], c.fold) for c in cells] == [
        ("lab-a", 0),
        ("lab-a", 1),
        ("lab-a", 2),
        ("lab-b", None),
    ]
    assert cells[0].name == "ft-fc__lab-a__s0__f0"
