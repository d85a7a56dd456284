"""One cell from its inputs alone: independent of the scenario around it, resumable mid-sequence."""

from __future__ import annotations

import pytest
import torch
from _experiment_helpers import tiny

from fer_avalanche.errors import CheckpointError
from fer_avalanche.experiment import cell as cell_module
from fer_avalanche.experiment.baseline import train_or_load_baseline
from fer_avalanche.experiment.cell import run_cell
from fer_avalanche.experiment.context import ExperimentContext
from fer_avalanche.experiment.keys import cell_key
from fer_avalanche.experiment.plan import Cell

pytestmark = pytest.mark.slow


def _run(scenario, cell, cache, checkpoint=None):
    ctx = ExperimentContext(scenario, "cpu", cache)
    baseline = train_or_load_baseline(ctx, cell.seed, {None: [ctx.source_name, *cell.targets]})
    datasets = {d.name: d for d in ctx.datasets(cell.targets, cell.seed, cell.fold)}
    key = cell_key(scenario, cell, ctx.baseline_key(cell.seed), datasets)
    return run_cell(ctx, cell, baseline, key, checkpoint=checkpoint), key


def _numbers(record):
    return [{d: r.confusion.tolist() for d, r in step.evaluation.items()} for step in record.steps]


def test_a_cell_gives_the_same_numbers_alone_and_inside_a_larger_scenario(tmp_path):
    alone = tiny(
        "targets=[{name='lab-b', format='synthetic', domain='lab-b', n=140}]", "strategies.names=['retrain']"
    )
    crowded = tiny("strategies.names=['ft-fc', 'fusion', 'retrain']")  # lab-a first: lab-b is the 2nd target
    cell = Cell("retrain", ("lab-b",), 0, None, "pairwise")
    a, _ = _run(alone, cell, tmp_path / "cache")
    b, _ = _run(crowded, cell, tmp_path / "cache")
    assert _numbers(a) == _numbers(b)


SEQUENTIAL = [
    "ft-fc",
    "ft-lastconv-fc",
    "retrain-scratch",
    "fusion",
    "replay",
    "lwf",
    "ewc",
    "si",
    "der",
    "joint",
]


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    root = tmp_path_factory.mktemp("steps")
    return tiny("mode='sequential'", "strategies.options={}", "adapt.epochs=2"), root


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_sequence_continues_from_its_step_checkpoint(sequence, name, monkeypatch):
    scenario, root = sequence
    cell = Cell(name, ("lab-a", "lab-b"), 0, None, "sequence")
    checkpoint = root / "checkpoints" / f"{name}.pt"
    uninterrupted, _ = _run(scenario, cell, root / "cache", checkpoint)
    saved = torch.load(checkpoint, weights_only=True)  # left after the first target
    assert len(saved["steps"]) == 1
    evaluated = []
    original = cell_module.evaluate
    monkeypatch.setattr(cell_module, "evaluate", lambda *a: evaluated.append(1) or original(*a))
    torch.manual_seed(999)  # the checkpoint's generators win over whatever this process holds
    resumed, _ = _run(scenario, cell, root / "cache", checkpoint)
    assert len(evaluated) == 1, "the step held by the checkpoint was trained again"
    assert _numbers(resumed) == _numbers(uninterrupted)


def test_step_checkpoint_of_another_cell_or_corrupt_is_refused(sequence):
    scenario, root = sequence
    checkpoint = root / "checkpoints" / "mixed.pt"
    _run(scenario, Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence"), root / "cache", checkpoint)
    with pytest.raises(CheckpointError, match=r"differs from this run in: cell\)") as info:
        _run(scenario, Cell("retrain", ("lab-a", "lab-b"), 0, None, "sequence"), root / "cache", checkpoint)
    assert str(checkpoint) in str(info.value)
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot load sequence step checkpoint"):
        _run(scenario, Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence"), root / "cache", checkpoint)
