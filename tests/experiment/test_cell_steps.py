"""What ``run_cell`` records of each step, per kind of trainer, on a scenario small enough for the fast
suite (24x24 images, width 4, one epoch: about a second per cell on a CPU).

The slow ``test_cell.py`` checks a cell alone against the same cell in a larger scenario and resuming
every sequential strategy; this file follows each field of a step from the strategy into the record.
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
import warnings

import pytest
import torch
from _experiment_helpers import tiny

from fer_avalanche.errors import CheckpointError
from fer_avalanche.experiment.baseline import train_or_load_baseline
from fer_avalanche.experiment.cell import CellInputs, run_cell
from fer_avalanche.experiment.context import ExperimentContext, stable_seed
from fer_avalanche.experiment.keys import cell_key
from fer_avalanche.experiment.plan import Cell
from fer_avalanche.experiment.store import load_checkpoint, save_checkpoint

SMALL = (
    "image_size=24",
    "source.n=210",
    "targets.lab-a.n=90",
    "targets.lab-b.n=90",
    "targets.lab-b.options={drop_classes=['neutral']}",  # a CK+48-like target without neutral
    "adapt.batch_size=16",
    "adapt.epochs=2",
)
NEUTRAL = 6


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cells")


def _run(cache, cell, *overrides, baseline=None, **kwargs):
    """``run_cell`` as the runner calls it; ``kwargs`` (checkpoint, echo, save_model) passed as given."""
    scenario = tiny(*SMALL, *overrides)
    ctx = ExperimentContext(scenario, "cpu", cache)
    if baseline is None:
        baseline = train_or_load_baseline(ctx, cell.seed, {cell.fold: [ctx.source_name, "lab-a", "lab-b"]})
    datasets = {d.name: d for d in ctx.datasets(cell.targets, cell.seed, cell.fold)}
    key = cell_key(scenario, cell, ctx.baseline_key(cell.seed), datasets)
    return run_cell(ctx, cell, baseline, key, **kwargs), key, ctx, datasets


def _numbers(step):
    return {d: r.confusion.tolist() for d, r in step.evaluation.items()}


def test_a_trained_step_records_the_strategys_budget_curve_history_and_selection(cache):
    cell = Cell("ft-fc", ("lab-a",), 0)
    lines: list[str] = []
    start = time.perf_counter()
    record, key, _, datasets = _run(cache, cell, "adapt.select='best_val'", echo=lines.append)
    elapsed = time.perf_counter() - start
    assert record.cell == cell and record.key == key and record.state is None
    (step,) = record.steps
    assert step.target == "lab-a" and set(step.evaluation) == {"wild", "lab-a"}
    n_train = len(datasets["lab-a"].get_split("train"))
    assert step.budget["steps"] == 2 * math.ceil(n_train / 16) and step.budget["epochs"] == 2
    assert step.budget["source_samples"] == 0
    assert [e["epoch"] for e in step.curve] == [0, 1, 2]  # best_val: evaluated before and every epoch
    assert step.selected_epoch in (0, 1, 2)
    assert [h["epoch"] for h in step.history] == [1, 2] and 0 < step.train_time_s < elapsed
    assert step.selection["select"] == "best_val" and step.selection["monitor"] == "target"
    assert step.extra == {"absent_classes": "train", "target_absent": []}
    assert len(lines) == 2 and all(cell.label in line for line in lines)  # one line per epoch


def test_a_step_without_validation_records_no_selection_and_no_curve(cache):
    (step,) = _run(cache, Cell("ft-fc", ("lab-a",), 0))[0].steps
    assert step.selection == {} and step.curve == [] and step.selected_epoch is None


def test_the_classes_a_target_lacks_and_the_masking_setting_are_in_the_step(cache):
    (step,) = _run(cache, Cell("retrain", ("lab-b",), 0), "adapt.absent_classes='mask'")[0].steps
    assert step.extra["target_absent"] == ["neutral"] and step.extra["absent_classes"] == "mask"
    assert step.extra["masked_classes"] == [NEUTRAL]  # what the masking plugin adds to the row
    assert step.evaluation["lab-b"].confusion[NEUTRAL].sum() == 0  # no neutral test image either


def test_the_baseline_cell_trains_nothing_and_is_evaluated_after_every_target(cache):
    cell = Cell("baseline", ("lab-a", "lab-b"), 0, None, "sequence")
    record, *_ = _run(cache, cell, "mode='sequential'", "adapt.select='best_val'", save_model=True)
    assert [s.target for s in record.steps] == ["lab-a", "lab-b"]
    assert all(s.train_time_s == 0.0 and s.budget["steps"] == 0 for s in record.steps)
    assert all(s.selection == {} for s in record.steps)  # no validation for what trains nothing
    assert set(record.steps[1].evaluation) == {"wild", "lab-a", "lab-b"}
    assert record.steps[0].evaluation["wild"].acc == record.steps[1].evaluation["wild"].acc
    assert record.state is not None  # the baseline's network


def test_save_model_returns_the_final_network(cache):
    record, _, ctx, _ = _run(cache, Cell("retrain", ("lab-a",), 0), save_model=True)
    model = ctx.new_model()
    model.load_state_dict(torch.load(io.BytesIO(record.state), weights_only=True))
    model.eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 24, 24)).shape == (1, 7)


def test_a_sequence_saves_a_step_checkpoint_after_every_step_but_the_last(cache, tmp_path, monkeypatch):
    from fer_avalanche.experiment import cell as cell_module

    saved = []
    monkeypatch.setattr(cell_module, "save_checkpoint", lambda path, obj: saved.append((path, obj)))
    cell = Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence")
    path = tmp_path / "step.pt"
    record, key, *_ = _run(cache, cell, "mode='sequential'", checkpoint=path)
    assert [s.target for s in record.steps] == ["lab-a", "lab-b"]
    ((where, obj),) = saved
    assert where == path and obj["key"] == key and [s["target"] for s in obj["steps"]] == ["lab-a"]
    assert "strategy" in obj  # the whole strategy state, to continue from


def test_a_pairwise_cell_never_writes_a_step_checkpoint(cache, tmp_path):
    path = tmp_path / "step.pt"
    _run(cache, Cell("ft-fc", ("lab-a",), 0), checkpoint=path)
    assert not path.exists()


def _count_builds(monkeypatch):
    built = []
    original = CellInputs.build
    monkeypatch.setattr(CellInputs, "build", lambda self: built.append(self.cell) or original(self))
    return built


def test_a_joint_cell_trains_a_fresh_model_on_everything_so_far_at_each_step(cache, tmp_path, monkeypatch):
    from fer_avalanche.experiment import cell as cell_module

    saved = []
    monkeypatch.setattr(
        cell_module, "save_checkpoint", lambda path, obj: saved.append(obj) or paths.append(path)
    )
    paths = []
    built = _count_builds(monkeypatch)
    cell = Cell("joint", ("lab-a", "lab-b"), 0, None, "sequence")
    record, key, _, datasets = _run(
        cache, cell, "mode='sequential'", checkpoint=tmp_path / "j.pt", save_model=True
    )
    assert paths == [tmp_path / "j.pt"] and record.state is not None
    assert all(0 < s.train_time_s < 600 for s in record.steps)  # a duration, not a clock reading
    n_train = {name: len(d.get_split("train")) for name, d in datasets.items()}
    assert built == [cell, cell]  # a fresh strategy (from the baseline) per step
    assert [s.target for s in record.steps] == ["lab-a", "lab-b"]
    for step in record.steps:  # the earlier datasets count as "source samples"
        seen = step.budget["source_samples"] + step.budget["target_passes"] * n_train[step.target]
        assert step.budget["source_samples"] > 0 and seen == pytest.approx(step.budget["steps"] * 16)
    assert [[s["target"] for s in obj["steps"]] for obj in saved] == [["lab-a"]] and saved[0]["key"] == key


def test_a_target_strategy_is_built_once_and_carried_through_the_sequence(cache, monkeypatch):
    built = _count_builds(monkeypatch)
    cell = Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence")
    _run(cache, cell, "mode='sequential'")
    assert built == [cell]


def test_a_step_checkpoint_of_another_experiment_is_refused_naming_what_differs(cache, tmp_path):
    cell = Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence")
    path = tmp_path / "step.pt"
    save_checkpoint(path, {"key": {"cell": "other", "zz": 1}, "steps": []})
    message = rf"^{path}: checkpoint of another experiment \(differs from this run in: "
    message += r"adapt, baseline, cell, .*, zz\); delete it"
    with pytest.raises(CheckpointError, match=message):
        _run(cache, cell, "mode='sequential'", checkpoint=path)
    save_checkpoint(path, {"key": "not a dict", "steps": []})
    with pytest.raises(CheckpointError, match=r"differs from this run in: key\); delete it to recompute"):
        _run(cache, cell, "mode='sequential'", checkpoint=path)
    assert load_checkpoint(path, "sequence step", required="key")["key"] == "not a dict"  # left as it was


def test_the_adaptation_seed_comes_from_the_cell_alone():
    def seed(cell):
        return CellInputs(None, cell, None, {}, None, None, None).seed  # type: ignore[arg-type]

    assert seed(Cell("ft-fc", ("lab-a",), 0)) == stable_seed("ft-fc", "lab-a", 0, "")
    assert seed(Cell("ft-fc", ("lab-a",), 0, 2)) == stable_seed("ft-fc", "lab-a", 0, 2)
    assert seed(Cell("ft-fc", ("lab-a", "lab-b"), 1, None, "sequence")) == stable_seed(
        "ft-fc", "lab-a", "lab-b", 1, ""
    )


@pytest.mark.parametrize("strategy", ["retrain", "joint"])
def test_a_sequence_continues_from_its_step_checkpoint_as_if_never_stopped(cache, tmp_path, strategy):
    cell = Cell(strategy, ("lab-a", "lab-b"), 0, None, "sequence")
    path = tmp_path / "step.pt"
    whole, *_ = _run(cache, cell, "mode='sequential'", checkpoint=path)  # leaves the checkpoint of step 1
    assert path.exists()
    epochs = []
    resumed, *_ = _run(cache, cell, "mode='sequential'", checkpoint=path, echo=epochs.append)
    assert resumed.steps[0].to_dict() == whole.steps[0].to_dict()  # read back, time included
    assert len(epochs) == len(whole.steps[1].history)  # only step 2 trained again
    assert _numbers(resumed.steps[1]) == _numbers(whole.steps[1])  # from step 1's state, not the baseline
    assert resumed.steps[1].budget == whole.steps[1].budget


def test_a_corrupt_step_checkpoint_is_refused_naming_it(cache, tmp_path):
    path = tmp_path / "step.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=rf"^{path}: cannot load sequence step checkpoint \("):
        _run(
            cache,
            Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence"),
            "mode='sequential'",
            checkpoint=path,
        )


def test_a_cell_of_one_target_ignores_a_checkpoint_path(cache, tmp_path):
    path = tmp_path / "step.pt"
    save_checkpoint(path, {"key": {"cell": "other"}, "steps": []})  # would be refused if it were read
    for cell in (Cell("ft-fc", ("lab-a",), 0), Cell("ft-fc", ("lab-a",), 0, None, "sequence")):
        record, *_ = _run(cache, cell, checkpoint=path)
        assert [s.target for s in record.steps] == ["lab-a"]


def test_the_fault_hooks_are_reached_at_the_start_and_after_each_checkpoint(cache, tmp_path, monkeypatch):
    from fer_avalanche.experiment import faults

    events = []
    monkeypatch.setattr(faults, "reached", events.append)
    for i, strategy in enumerate(("ft-fc", "joint")):
        events.clear()
        cell = Cell(strategy, ("lab-a", "lab-b"), 0, None, "sequence")
        _run(cache, cell, "mode='sequential'", checkpoint=tmp_path / f"{i}.pt")
        assert events == ["start-cell", "after-checkpoint"], strategy


def test_a_strategy_without_state_warns_and_trains_on_without_checkpoints(cache, tmp_path, monkeypatch):
    from fer_avalanche.strategies import state

    def no_state(strategy, datasets):
        raise CheckpointError("MyPlugin declares no state")

    monkeypatch.setattr(state, "strategy_state", no_state)
    cell = Cell("ft-fc", ("lab-a", "lab-b"), 0, None, "sequence")
    message = (
        r"^ft-fc -> lab-a -> lab-b \(seed 0\): no step checkpoints \(MyPlugin declares no state\); "
        r"an interrupted sequence restarts from its first target$"
    )
    with pytest.warns(UserWarning, match=message):
        record, *_ = _run(cache, cell, "mode='sequential'", checkpoint=tmp_path / "s.pt")
    assert [s.target for s in record.steps] == ["lab-a", "lab-b"] and not (tmp_path / "s.pt").exists()
    # three targets: one warning, not one per step, and no checkpoint attempted again
    three = (
        "targets=["
        + ", ".join(
            f"{{name='{d}', format='synthetic', domain='{d}', n=90}}" for d in ("lab-a", "lab-b", "lab-c")
        )
        + "]"
    )
    cell = Cell("ft-fc", ("lab-a", "lab-b", "lab-c"), 0, None, "sequence")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record, *_ = _run(cache, cell, "mode='sequential'", three, checkpoint=tmp_path / "t.pt")
    assert [str(w.message).count("no step checkpoints") for w in caught].count(1) == 1
    assert [s.target for s in record.steps] == ["lab-a", "lab-b", "lab-c"]


def test_save_model_is_off_by_default(cache):
    record, *_ = _run(cache, Cell("ft-fc", ("lab-a",), 0))
    assert record.state is None


def test_a_cell_evaluates_on_its_own_fold_and_run_seed(cache):
    folds = "targets.lab-a.split={method='kfold', k=3, folds='all', seed='run'}"
    cell = Cell("ft-fc", ("lab-a",), 1, 2)
    record, _, ctx, _ = _run(cache, cell, folds)
    labels = record.steps[0].evaluation["lab-a"].labels.tolist()
    assert labels == ctx.dataset("lab-a", 1, fold=2).get_split("test").labels.tolist()
    assert labels != ctx.dataset("lab-a", 0, fold=2).get_split("test").labels.tolist()
    assert labels != ctx.dataset("lab-a", 1, fold=0).get_split("test").labels.tolist()


def test_a_rehearsal_cell_rehearses_the_source(cache, monkeypatch):
    sources = []
    original = ExperimentContext.strategy

    def spy(self, recipe, model, seed, *, source, **kwargs):
        sources.append(None if source is None else source.dataset_name)  # None: the baseline's training
        return original(self, recipe, model, seed, source=source, **kwargs)

    monkeypatch.setattr(ExperimentContext, "strategy", spy)
    (step,) = _run(cache, Cell("fusion", ("lab-a",), 0))[0].steps
    assert sources[-1] == "wild"  # the cell's: the source's training experience, not a target's
    assert step.budget["source_samples"] > 0 and step.budget["target_passes"] > 0


def test_wise_ft_reports_its_alpha_curve_on_the_cells_test_sets(cache):
    cell = Cell("wise-ft", ("lab-a",), 0)
    (step,) = _run(cache, cell, "strategies.options={wise-ft={alphas=[0.0, 1.0]}}")[0].steps
    assert step.extra["alpha"] in (0.0, 1.0)
    assert [p["alpha"] for p in step.extra["alpha_curve"]] == [0.0, 1.0]
    assert all(set(p["test"]) == {"wild", "lab-a"} for p in step.extra["alpha_curve"])


def test_a_baseline_whose_weights_do_not_fit_is_refused_naming_its_file(cache):
    from fer_avalanche.experiment.baseline import state_bytes
    from fer_avalanche.models import make_model

    ctx = ExperimentContext(tiny(*SMALL), "cpu", cache)
    good = train_or_load_baseline(ctx, 0, {None: [ctx.source_name, "lab-a"]})
    wrong = dataclasses.replace(
        good, state=state_bytes(make_model(width=8, image_size=24)), checkpoint="base-x.pt"
    )
    with pytest.raises(CheckpointError, match=r"base-x\.pt"):
        _run(cache, Cell("ft-fc", ("lab-a",), 0), baseline=wrong)
